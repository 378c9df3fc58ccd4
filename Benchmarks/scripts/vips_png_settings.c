/* vips_png_settings.c: CPU time of the edit service's libvips pipeline, per image, for PNG
 * save settings (Benchmarks/README.md, "Image routes", PNG settings).
 *
 *   gcc -O2 vips_png_settings.c -o /tmp/vips_png_settings $(pkg-config --cflags --libs vips)
 *   /tmp/vips_png_settings IMAGE MODE COMPRESSION FILTER ITERATIONS [ACCESS]
 *
 * MODE 0: decode + vips_avg (the old full validation); 1: sRGB -> B_W -> sRGB, 3 bands (the
 * old grayscale); 2: sRGB -> B_W, 1 band (the new grayscale); 3: no edit (sRGB as decoded).
 * FILTER is a VipsForeignPngFilter: 8 none, 16 sub, 32 up, 64 avg, 128 paeth, 248 all
 * (adaptive). ACCESS: 0 random (default), 1 sequential. Prints CPU ms per iteration and the
 * PNG's size. Settings as the service: no operation cache, one libvips thread. */
#include <vips/vips.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  if(VIPS_INIT(argv[0]))return 1; vips_cache_set_max(0); vips_concurrency_set(1);
  gchar*buf;gsize len; g_file_get_contents(argv[1],&buf,&len,NULL);
  int mode=atoi(argv[2]); int comp=atoi(argv[3]); int filter=atoi(argv[4]); int n=atoi(argv[5]);
  int access = argc>6 ? atoi(argv[6]) : VIPS_ACCESS_RANDOM;
  size_t outlen=0; double t0=now();
  for(int i=0;i<n;i++){
    VipsImage *in=vips_image_new_from_buffer(buf,len,"","access",access,"fail_on",VIPS_FAIL_ON_ERROR,NULL);
    if(!in){fprintf(stderr,"%s\n",vips_error_buffer());return 1;}
    if(mode==0){ /* old validate: avg */ double a; vips_avg(in,&a,NULL); g_object_unref(in); continue;}
    VipsImage *s,*c,*g,*g2,*g3,*out;
    vips_colourspace(in,&s,VIPS_INTERPRETATION_sRGB,NULL); vips_cast(s,&c,VIPS_FORMAT_UCHAR,NULL);
    vips_colourspace(c,&g,VIPS_INTERPRETATION_B_W,NULL);
    if(mode==1){ vips_colourspace(g,&g2,VIPS_INTERPRETATION_sRGB,NULL); vips_cast(g2,&out,VIPS_FORMAT_UCHAR,NULL); g_object_unref(g2);} 
    else if(mode==2){ vips_cast(g,&out,VIPS_FORMAT_UCHAR,NULL);} 
    else { out=c; g_object_ref(c);} 
    void*o; size_t ol;
    if(vips_pngsave_buffer(out,&o,&ol,"compression",comp,"filter",filter,"strip",TRUE,NULL)){fprintf(stderr,"%s\n",vips_error_buffer());return 1;}
    outlen=ol; g_free(o);
    g_object_unref(out); g_object_unref(g); g_object_unref(c); g_object_unref(s); g_object_unref(in);
  }
  double t=now()-t0; printf("mode %d comp %d filter 0x%x: %.1f ms/iter, out %zu B\n",mode,comp,filter,1000*t/n,outlen);
  return 0;}
