/* CRC-32 (IEEE 802.3, zlib's crc32) for checkpoint, export and sealed-file checksums, without
 * linking zlib. */
#ifndef AVMASK_CRC32_H
#define AVMASK_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* Continues crc over buf[0..n); start with crc = 0. crc32_update(0, "123456789", 9) = 0xCBF43926. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t n);
/* A checksum stored as text is 8 lowercase hex digits ("%08x"); parses one. 0 or -1. */
int crc_hex_parse(const char *s, uint32_t *v);
#endif
