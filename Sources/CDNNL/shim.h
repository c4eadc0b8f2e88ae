// oneDNN (Intel's Deep Neural Network Library) from Debian's libdnnl-dev: CPU convolutions.
#include <dnnl.h>
