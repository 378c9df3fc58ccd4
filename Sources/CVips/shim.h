#ifndef IMAGEEDIT_CVIPS_SHIM_H
#define IMAGEEDIT_CVIPS_SHIM_H
#include <vips/vips.h>
#include <libdeflate.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Big-endian 32-bit, as PNG writes lengths and CRCs. */
static inline void ie_png_put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* libvips' operations are variadic (optional arguments, NULL-terminated) and cannot be called
 * from Swift: each one we use gets a fixed-argument wrapper here. All return 0 on success and
 * -1 on failure (the reason is in vips_error_buffer()). */

static inline int ie_vips_init(void) { return VIPS_INIT("imageedit"); }

/* Decodes a PNG/JPEG/WebP buffer; stops on truncated or corrupt data instead of padding.
 * VIPS_ACCESS_SEQUENTIAL streams the pixels top to bottom through the pipeline (no decoded
 * copy of the whole image) and suits pipelines that read rows in order; rotations and
 * vertical flips need VIPS_ACCESS_RANDOM. */
static inline VipsImage *ie_vips_load_buffer(const void *buf, size_t len, VipsAccess access) {
    return vips_image_new_from_buffer(buf, len, "", "access", access,
                                      "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}
/* The smallest PNG libvips writes: zlib level 6, libpng trying every row filter, no metadata. */
static inline int ie_vips_pngsave_small(VipsImage *in, void **buf, size_t *len) {
    return vips_pngsave_buffer(in, buf, len, "compression", 6, "filter", VIPS_FOREIGN_PNG_FILTER_ALL, "strip", TRUE, NULL);
}
/* The project's own PNG writer, for 8-bit images of 1 to 4 bands (grey, grey + alpha, RGB,
 * RGBA): every row gets PNG's Sub filter, and the filtered rows are deflated in one go by
 * libdeflate at level 1, into a single IDAT chunk; no ancillary chunks (like "strip"). On a
 * photo-like 512x512 image this writes a slightly smaller file than libpng with zlib level 2
 * and the same filter, in about a third of the time: zlib's match search finds little in noisy
 * residuals and pays for looking, libdeflate's level 1 gives up sooner. Smooth images still
 * compress well (repeats are found). See Benchmarks/README.md, "Image routes".
 *
 * Computes the image's pixels (this is where a lazily decoded image is decoded: a decode error
 * returns -1 with libvips' error buffer set). On success returns 0 with a malloc'd PNG in *out
 * (free it with free()) and its length in *out_length; -2 when the image is not 8-bit with 1-4
 * bands or is too large, -3 when memory runs out. */
static inline int ie_png_write(VipsImage *image, unsigned char **out, size_t *out_length) {
    static const unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    static const unsigned char color_types[5] = {0, 0, 4, 2, 6};
    /* One compressor per thread, kept: allocating one costs more than a small image's deflate. */
    static _Thread_local struct libdeflate_compressor *compressor = NULL;
    int width = vips_image_get_width(image), height = vips_image_get_height(image), bands = vips_image_get_bands(image);
    if (vips_image_get_format(image) != VIPS_FORMAT_UCHAR || bands < 1 || bands > 4 || width < 1 || height < 1 ||
        width > 65535 || height > 65535) {
        return -2;
    }
    size_t pixels_length = 0;
    unsigned char *pixels = vips_image_write_to_memory(image, &pixels_length);
    if (pixels == NULL) return -1;
    size_t stride = (size_t)width * (size_t)bands;
    if (pixels_length != stride * (size_t)height) { g_free(pixels); return -2; }
    size_t filtered_length = (stride + 1) * (size_t)height;
    unsigned char *filtered = malloc(filtered_length);
    if (filtered == NULL) { g_free(pixels); return -3; }
    for (int y = 0; y < height; y++) {
        const unsigned char *row = pixels + (size_t)y * stride;
        unsigned char *target = filtered + (size_t)y * (stride + 1);
        target[0] = 1; /* Sub: each byte minus the same channel of the pixel to its left */
        memcpy(target + 1, row, (size_t)bands);
        for (size_t x = (size_t)bands; x < stride; x++) target[1 + x] = (unsigned char)(row[x] - row[x - (size_t)bands]);
    }
    g_free(pixels);
    if (compressor == NULL) compressor = libdeflate_alloc_compressor(1);
    if (compressor == NULL) { free(filtered); return -3; }
    size_t bound = libdeflate_zlib_compress_bound(compressor, filtered_length);
    if (bound > 0x7fffffffUL) { free(filtered); return -2; }
    unsigned char *png = malloc(8 + 25 + 8 + bound + 4 + 12);
    if (png == NULL) { free(filtered); return -3; }
    unsigned char *p = png;
    memcpy(p, signature, 8); p += 8;
    ie_png_put32(p, 13); memcpy(p + 4, "IHDR", 4);
    ie_png_put32(p + 8, (uint32_t)width); ie_png_put32(p + 12, (uint32_t)height);
    p[16] = 8; p[17] = color_types[bands]; p[18] = 0; p[19] = 0; p[20] = 0; /* depth, colour type, deflate, adaptive filters, no interlace */
    ie_png_put32(p + 21, libdeflate_crc32(0, p + 4, 17)); p += 25;
    unsigned char *idat = p;
    size_t compressed = libdeflate_zlib_compress(compressor, filtered, filtered_length, idat + 8, bound);
    free(filtered);
    if (compressed == 0) { free(png); return -3; }
    ie_png_put32(idat, (uint32_t)compressed); memcpy(idat + 4, "IDAT", 4);
    p = idat + 8 + compressed;
    ie_png_put32(p, libdeflate_crc32(0, idat + 4, compressed + 4)); p += 4;
    ie_png_put32(p, 0); memcpy(p + 4, "IEND", 4); ie_png_put32(p + 8, libdeflate_crc32(0, p + 4, 4)); p += 12;
    *out = png;
    *out_length = (size_t)(p - png);
    return 0;
}

static inline int ie_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}
static inline int ie_vips_invert(VipsImage *in, VipsImage **out) { return vips_invert(in, out, NULL); }
static inline int ie_vips_flip(VipsImage *in, VipsImage **out, VipsDirection d) { return vips_flip(in, out, d, NULL); }
static inline int ie_vips_rot(VipsImage *in, VipsImage **out, VipsAngle a) { return vips_rot(in, out, a, NULL); }
static inline int ie_vips_gaussblur(VipsImage *in, VipsImage **out, double sigma) { return vips_gaussblur(in, out, sigma, NULL); }
static inline int ie_vips_sharpen(VipsImage *in, VipsImage **out) { return vips_sharpen(in, out, NULL); }
static inline int ie_vips_linear1(VipsImage *in, VipsImage **out, double a, double b) { return vips_linear1(in, out, a, b, NULL); }
static inline int ie_vips_resize(VipsImage *in, VipsImage **out, double scale) { return vips_resize(in, out, scale, NULL); }
static inline VipsInterpretation ie_vips_interpretation(VipsImage *in) { return vips_image_guess_interpretation(in); }
static inline int ie_vips_cast_uchar(VipsImage *in, VipsImage **out) { return vips_cast(in, out, VIPS_FORMAT_UCHAR, NULL); }
static inline int ie_vips_extract_bands(VipsImage *in, VipsImage **out, int first, int n) {
    return vips_extract_band(in, out, first, "n", n, NULL);
}
static inline int ie_vips_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_bandjoin2(a, b, out, NULL); }
static inline int ie_vips_addalpha(VipsImage *in, VipsImage **out) { return vips_addalpha(in, out, NULL); }
/* Places `in` at (x, y) on a transparent width × height canvas. */
static inline int ie_vips_embed_transparent(VipsImage *in, VipsImage **out, int x, int y, int width, int height) {
    double zeros[4] = {0, 0, 0, 0};
    VipsArrayDouble *background = vips_array_double_new(zeros, 4);
    int result = vips_embed(in, out, x, y, width, height, "extend", VIPS_EXTEND_BACKGROUND, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return result;
}
/* Reads every pixel (forcing a full decode, so truncation is detected). */
static inline int ie_vips_avg(VipsImage *in, double *out) { return vips_avg(in, out, NULL); }
/* glibc's malloc arenas (see ImageMemory.limitMallocArenas). Returns 1 on success. */
static inline int ie_malloc_arena_max(int count) { return mallopt(M_ARENA_MAX, count); }
static inline void ie_vips_unref(VipsImage *image) { if (image) g_object_unref(image); }
static inline void ie_vips_free(void *buffer) { g_free(buffer); }
#endif
