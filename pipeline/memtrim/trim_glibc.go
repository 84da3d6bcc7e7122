//go:build linux && cgo

package memtrim

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static int sofpipe_trim(void) { return malloc_trim(0); }
#else
static int sofpipe_trim(void) { return 0; }
#endif
*/
import "C"

func trim() bool { return C.sofpipe_trim() != 0 }
