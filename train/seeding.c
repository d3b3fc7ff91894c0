#include "train/seeding.h"

/* Mixes the key words through a 64-bit finaliser so that nearby keys give unrelated streams. */
static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

void train_rng(avm_rng *r, uint64_t seed, int purpose, int64_t a, int64_t b) {
    uint64_t k = mix((uint64_t)purpose * 0x9E3779B97F4A7C15ull ^ mix((uint64_t)a + 0x1234567ull));
    k = mix(k ^ ((uint64_t)b * 0xD6E8FEB86659FD93ull));
    rng_seed(r, seed, k);
}
