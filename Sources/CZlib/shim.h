// zlib from Debian's zlib1g-dev: gzip decompression and the deflate stream of PNG files.
#include <zlib.h>
