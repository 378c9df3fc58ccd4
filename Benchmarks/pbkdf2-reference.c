/* pbkdf2-reference: this machine's pure PBKDF2-HMAC-SHA256 rate, computed by the very function
   the auth service calls (ie_pbkdf2_hmac_sha256 in Sources/COpenSSL/shim.h), with nothing around
   it: one process per core, each hashing until a shared end time. A hash that finishes after the
   end counts in proportion, so the rate is not biased by a hash straddling it.

   Usage: pbkdf2-reference PROCESSES SECONDS ITERATIONS [openssl]
   Prints "hashes_per_second cpu_ms_per_hash". With "openssl", OpenSSL's own PKCS5_PBKDF2_HMAC
   is measured instead (what Python's hashlib.pbkdf2_hmac calls).
   Built by auth-bench.sh: cc -O2 pbkdf2-reference.c -lcrypto */
#include "../Sources/COpenSSL/shim.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double clock_seconds(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PROCESSES SECONDS ITERATIONS [openssl]\n", argv[0]);
        return 2;
    }
    int processes = atoi(argv[1]);
    double seconds = atof(argv[2]);
    unsigned long iterations = strtoul(argv[3], NULL, 10);
    int use_openssl = argc > 4 && strcmp(argv[4], "openssl") == 0;
    if (processes < 1 || seconds <= 0 || iterations < 1) {
        fprintf(stderr, "pbkdf2-reference: bad arguments\n");
        return 2;
    }
    static const unsigned char password[] = "bench-password", salt[] = "bench-salt-22-characters";
    int fds[2];
    if (pipe(fds) != 0) return 2;
    double start = clock_seconds(CLOCK_MONOTONIC) + 0.2, end = start + seconds;
    for (int p = 0; p < processes; p++) {
        if (fork() == 0) {
            while (clock_seconds(CLOCK_MONOTONIC) < start) usleep(1000);
            double cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID), count = 0, now = clock_seconds(CLOCK_MONOTONIC);
            unsigned char out[32];
            while (now < end) {
                double begin = now;
                if (use_openssl) {
                    PKCS5_PBKDF2_HMAC((const char *)password, sizeof password - 1, salt, sizeof salt - 1, (int)iterations, EVP_sha256(), 32, out);
                } else {
                    ie_pbkdf2_hmac_sha256(password, sizeof password - 1, salt, sizeof salt - 1, iterations, out, 32);
                }
                now = clock_seconds(CLOCK_MONOTONIC);
                count += now <= end ? 1 : (end - begin) / (now - begin);
            }
            double result[2] = {count, (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (count > 1 ? count : 1)};
            if (write(fds[1], result, sizeof result) != sizeof result) _exit(1);
            _exit(0);
        }
    }
    double total = 0, cpu = 0;
    for (int p = 0; p < processes; p++) {
        double result[2];
        if (read(fds[0], result, sizeof result) != sizeof result) return 1;
        total += result[0];
        cpu += result[1];
    }
    while (wait(NULL) > 0) {}
    printf("%.3f %.1f\n", total / seconds, 1000 * cpu / processes);
    return 0;
}
