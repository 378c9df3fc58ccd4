#ifndef IMAGEEDIT_CCURL_SHIM_H
#define IMAGEEDIT_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt is variadic and cannot be called from Swift: one typed wrapper per argument kind. */
static inline CURLcode imageedit_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode imageedit_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode imageedit_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode imageedit_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }

typedef size_t (*imageedit_curl_data_callback)(char *data, size_t size, size_t count, void *user_data);
static inline CURLcode imageedit_curl_set_write_function(CURL *h, imageedit_curl_data_callback f) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode imageedit_curl_set_header_function(CURL *h, imageedit_curl_data_callback f) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
#endif
