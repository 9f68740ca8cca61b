/* Dependent random reads in a working set of argv[1] MB, prefetching argv[2] reads ahead (0 = none); see README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <xmmintrin.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t n=(size_t)atol(argv[1])*1024*1024/8; int dist=atoi(argv[2]);
  uint64_t*a=malloc(n*8); for(size_t i=0;i<n;i++)a[i]=(i*2654435761u)&~1ull;
  size_t m=20000000; uint32_t*idx=malloc(m*4); uint64_t x=88172645463325252ull;
  for(size_t i=0;i<m;i++){x^=x<<13;x^=x>>7;x^=x<<17;idx[i]=x%n;}
  double t=now(); uint64_t s=0;
  for(size_t i=0;i<m;i++){ if(dist>0&&i+dist<m)_mm_prefetch((char*)&a[idx[i+dist]],_MM_HINT_T0); s+=a[idx[i]^(s&1)]; }
  double e=now()-t; printf("%s MB dist %d: %.1f ns/access (s=%lu)\n",argv[1],dist,e/m*1e9,s%7);
}
