/*
 * testutil.h - includes every cmocka test needs, in the order cmocka wants.
 */
#ifndef LR_TESTUTIL_H
#define LR_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#endif
