#include "/usr/lib/gcc/x86_64-linux-gnu/12/include/omp.h"
