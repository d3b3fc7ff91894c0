#ifndef AVMASK_VERSION_H
#define AVMASK_VERSION_H
#define AVMASK_VERSION "0.1.0"
#endif
