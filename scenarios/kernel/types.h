// types.h — fixed-width integer names, xv6 style. The kernel is freestanding:
// no libc headers, so we spell the sizes ourselves.
#pragma once

typedef unsigned char      uint8;
typedef unsigned short     uint16;
typedef unsigned int       uint32;
typedef unsigned long      uint64;
typedef long               int64;
typedef uint64             pte_t;

#define NULL ((void *)0)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
