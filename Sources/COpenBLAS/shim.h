// OpenBLAS's CBLAS interface and thread control, from Debian's libopenblas-dev.
#include <cblas.h>
