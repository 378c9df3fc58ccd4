#ifndef IMAGEEDIT_CLIBPQ_SHIM_H
#define IMAGEEDIT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
