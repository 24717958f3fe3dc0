#include "CICU.h"

#include <stdio.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/uregex.h>
#include <unicode/uscript.h>
#include <unicode/utext.h>
#include <unicode/utrans.h>

// One word break iterator per thread: opening one loads the rules, which costs far more than a
// tokenization of a short text.
static __thread UBreakIterator *wordIterator;
static __thread UTransliterator *asciiFolder;

int32_t elanus_icu_word_breaks(const char *utf8, int32_t length, int32_t *boundaries, int32_t *statuses, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    if (wordIterator == NULL) {
        wordIterator = ubrk_open(UBRK_WORD, "", NULL, 0, &status);
        if (U_FAILURE(status)) { wordIterator = NULL; return -1; }
    }
    UText text = UTEXT_INITIALIZER;
    utext_openUTF8(&text, utf8, length, &status);
    if (U_FAILURE(status)) return -1;
    ubrk_setUText(wordIterator, &text, &status);
    if (U_FAILURE(status)) { utext_close(&text); return -1; }
    int32_t count = 0;
    for (int32_t b = ubrk_first(wordIterator); b != UBRK_DONE; b = ubrk_next(wordIterator)) {
        if (count >= capacity) { count = -1; break; }
        boundaries[count] = b;
        // The rule status of a boundary describes the segment that ends there.
        if (count > 0) statuses[count - 1] = ubrk_getRuleStatus(wordIterator);
        count++;
    }
    // Detach the text before it goes out of scope.
    UErrorCode ignored = U_ZERO_ERROR;
    static const UChar empty[] = {0};
    ubrk_setText(wordIterator, empty, 0, &ignored);
    utext_close(&text);
    return count;
}

int32_t elanus_icu_is_emoji(uint32_t c) {
    return u_hasBinaryProperty((UChar32)c, UCHAR_EXTENDED_PICTOGRAPHIC) || u_hasBinaryProperty((UChar32)c, UCHAR_EMOJI_PRESENTATION) ||
           u_hasBinaryProperty((UChar32)c, UCHAR_REGIONAL_INDICATOR) || c == 0x20E3;
}

int32_t elanus_icu_is_han(uint32_t c) {
    UErrorCode status = U_ZERO_ERROR;
    return uscript_getScript((UChar32)c, &status) == USCRIPT_HAN && U_SUCCESS(status);
}

int32_t elanus_icu_is_katakana(uint32_t c) {
    UErrorCode status = U_ZERO_ERROR;
    return uscript_getScript((UChar32)c, &status) == USCRIPT_KATAKANA && U_SUCCESS(status);
}

int32_t elanus_icu_ascii_fold(const uint16_t *text, int32_t length, uint16_t *out, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    if (asciiFolder == NULL) {
        static const UChar id[] = {'L', 'a', 't', 'i', 'n', '-', 'A', 'S', 'C', 'I', 'I', 0};
        asciiFolder = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &status);
        if (U_FAILURE(status)) { asciiFolder = NULL; return -1; }
    }
    if (length > capacity) return -1;
    memcpy(out, text, (size_t)length * sizeof(uint16_t));
    int32_t textLength = length;
    int32_t limit = length;
    utrans_transUChars(asciiFolder, out, &textLength, capacity, 0, &limit, &status);
    if (U_FAILURE(status)) return -1;
    return textLength;
}

void *elanus_icu_regex_compile(const uint16_t *pattern, int32_t length, char *error, int32_t errorCapacity) {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse;
    URegularExpression *regex = uregex_open(pattern, length, 0, &parse, &status);
    if (U_FAILURE(status)) {
        if (errorCapacity > 0) {
            snprintf(error, (size_t)errorCapacity, "%s at offset %d", u_errorName(status), parse.offset);
        }
        return NULL;
    }
    return regex;
}

void *elanus_icu_regex_clone(void *regex) {
    UErrorCode status = U_ZERO_ERROR;
    URegularExpression *copy = uregex_clone((const URegularExpression *)regex, &status);
    if (U_FAILURE(status)) return NULL;
    // A bound on the matcher's work (ICU time-limit steps, each of the order of a millisecond),
    // so that a pathological expression fails a token instead of stalling a request. A clone
    // does not inherit it, so it is set on every copy that searches.
    uregex_setTimeLimit(copy, 50, &status);
    return copy;
}

void elanus_icu_regex_close(void *regex) { if (regex) uregex_close((URegularExpression *)regex); }

int32_t elanus_icu_regex_search(void *regex, const char *utf8, int32_t length) {
    UErrorCode status = U_ZERO_ERROR;
    UText text = UTEXT_INITIALIZER;
    utext_openUTF8(&text, utf8, length, &status);
    if (U_FAILURE(status)) return -1;
    uregex_setUText((URegularExpression *)regex, &text, &status);
    UBool found = U_SUCCESS(status) ? uregex_find((URegularExpression *)regex, 0, &status) : 0;
    UErrorCode ignored = U_ZERO_ERROR;
    static const UChar empty[] = {0};
    uregex_setText((URegularExpression *)regex, empty, 0, &ignored);
    utext_close(&text);
    if (U_FAILURE(status)) return -1;
    return found ? 1 : 0;
}
