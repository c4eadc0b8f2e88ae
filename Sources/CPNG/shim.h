// libpng from Debian's libpng-dev: writing PNG pictures.
#include <png.h>
