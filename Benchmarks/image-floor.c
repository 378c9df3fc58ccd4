/* image-floor.c: what the image work of one benchmark upload costs by itself, with nothing of
 * the services around it: the local engine's "grayscale" pipeline exactly as the edit service
 * runs it (the same libvips calls from Sources/CVips/shim.h, included here, and the same PNG
 * writer), on one thread, in a loop. images-bench.sh runs it before the `upload` load and prints
 * it under the table: it is the floor under the services' CPU per upload, and 2 cores divided
 * by it is the most uploads per second this machine could do if nothing else ran at all.
 *
 *   cc -O2 -o image-floor image-floor.c $(pkg-config --cflags --libs vips) -ldeflate
 *   ./image-floor IMAGE.png [ROUNDS]
 */
#include "../Sources/CVips/shim.h"
#include <stdio.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void fail(const char *what) {
    fprintf(stderr, "image-floor: %s failed: %s\n", what, vips_error_buffer());
    exit(1);
}

/* Decode (streamed, failing on corrupt data), to 8-bit sRGB, and compute every pixel. */
static VipsImage *decoded(const void *bytes, size_t length) {
    VipsImage *source = ie_vips_load_buffer(bytes, length, VIPS_ACCESS_SEQUENTIAL), *srgb, *eight;
    if (source == NULL) fail("load");
    if (ie_vips_colourspace(source, &srgb, VIPS_INTERPRETATION_sRGB)) fail("colourspace");
    if (ie_vips_cast_uchar(srgb, &eight)) fail("cast");
    g_object_unref(source);
    g_object_unref(srgb);
    return eight;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: image-floor IMAGE [ROUNDS]\n"); return 2; }
    int rounds = argc > 2 ? atoi(argv[2]) : 100;
    if (ie_vips_init()) fail("vips init");
    vips_cache_set_max(0);   /* as the service: no operation cache, one thread per image */
    vips_concurrency_set(1);
    gchar *bytes;
    gsize length;
    if (!g_file_get_contents(argv[1], &bytes, &length, NULL)) { fprintf(stderr, "image-floor: cannot read %s\n", argv[1]); return 2; }

    /* Decode alone: every pixel computed into memory. */
    double start = now_ms();
    for (int i = 0; i < rounds; i++) {
        VipsImage *image = decoded(bytes, length);
        size_t size;
        void *pixels = vips_image_write_to_memory(image, &size);
        if (pixels == NULL) fail("decode");
        g_free(pixels);
        g_object_unref(image);
    }
    double decode = (now_ms() - start) / rounds;

    /* The whole edit: decode, grayscale, the PNG writer. */
    size_t png_length = 0;
    start = now_ms();
    for (int i = 0; i < rounds; i++) {
        VipsImage *image = decoded(bytes, length), *gray;
        if (ie_vips_colourspace(image, &gray, VIPS_INTERPRETATION_B_W)) fail("grayscale");
        unsigned char *png;
        if (ie_png_write(gray, &png, &png_length)) fail("png write");
        free(png);
        g_object_unref(gray);
        g_object_unref(image);
    }
    double edit = (now_ms() - start) / rounds;
    printf("decode_ms\t%.2f\nedit_ms\t%.2f\npng_bytes\t%zu\nrounds\t%d\n", decode, edit, png_length, rounds);
    return 0;
}
