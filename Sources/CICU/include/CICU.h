#ifndef ELANUS_CICU_H
#define ELANUS_CICU_H
// A thin C face over the parts of ICU the analyzers use. ICU renames its symbols per version
// (ubrk_open becomes ubrk_open_72), which Swift cannot import through the macros, so Swift calls
// these plain functions instead. Every function is safe to call from any thread: the stateful ICU
// objects (break iterator, transliterator) are kept one per thread, and compiled regexes are
// cloned per caller.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Splits UTF-8 text on UAX #29 word boundaries. Writes every boundary (UTF-8 byte offsets,
/// starting with 0 and ending with `length`) to `boundaries`, and for each segment that follows a
/// boundary its ICU rule status (0-99 none, 100-199 number, 200-299 letter, 300-399 kana,
/// 400-499 ideographic) to `statuses`. Returns the boundary count, or -1 when ICU fails or
/// `capacity` (which `length + 1` always satisfies) is too small.
int32_t elanus_icu_word_breaks(const char *utf8, int32_t length, int32_t *boundaries, int32_t *statuses, int32_t capacity);

/// 1 when the code point is an emoji in the sense of Milvus's standard tokenizer (Extended
/// Pictographic, Emoji Presentation, a Regional Indicator, or the combining keycap).
int32_t elanus_icu_is_emoji(uint32_t codePoint);

/// 1 for a code point of the Han script.
int32_t elanus_icu_is_han(uint32_t codePoint);

/// 1 for a code point of the Katakana script.
int32_t elanus_icu_is_katakana(uint32_t codePoint);

/// Folds Latin text to ASCII (ICU's Latin-ASCII transliterator: accents dropped, ligatures and
/// letters such as ß or æ spelled out). Writes UTF-16 into `out` and returns its length, or -1 on
/// failure or when `capacity` is too small.
int32_t elanus_icu_ascii_fold(const uint16_t *text, int32_t length, uint16_t *out, int32_t capacity);

/// A compiled ICU regular expression (opaque), or NULL with a message in `error`.
void *elanus_icu_regex_compile(const uint16_t *pattern, int32_t length, char *error, int32_t errorCapacity);
/// A copy of a compiled expression for one thread's use.
void *elanus_icu_regex_clone(void *regex);
void elanus_icu_regex_close(void *regex);
/// Searches UTF-8 text for the expression anywhere in it: 1 found, 0 not found, -1 when ICU gave
/// up (the match ran past its work limit).
int32_t elanus_icu_regex_search(void *regex, const char *utf8, int32_t length);

#ifdef __cplusplus
}
#endif
#endif
