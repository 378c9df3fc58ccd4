#ifndef IMAGEEDIT_CVIPS_SHIM_H
#define IMAGEEDIT_CVIPS_SHIM_H
#include <vips/vips.h>
#include <malloc.h>

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
/* PNG with zlib `compression` (0-9) and libpng row `filter` (a VipsForeignPngFilter: one
 * filter for every row, or VIPS_FOREIGN_PNG_FILTER_ALL to let libpng try each per row). */
static inline int ie_vips_pngsave(VipsImage *in, void **buf, size_t *len, int compression, VipsForeignPngFilter filter) {
    return vips_pngsave_buffer(in, buf, len, "compression", compression, "filter", filter, "strip", TRUE, NULL);
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
