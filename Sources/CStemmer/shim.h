// Debian's libstemmer-dev: the Snowball stemmers (sb_stemmer_new / sb_stemmer_stem). A stemmer
// object is not thread-safe; each analyzer run makes its own.
#include <libstemmer.h>
