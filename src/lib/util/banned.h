/*
 * banned.h - functions the project does not use, turned into compile errors.
 * Use snprintf, the pb_buf helpers, strtol-family parsers with checks.
 */
#ifndef PB_BANNED_H
#define PB_BANNED_H

#define PB_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) PB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) PB_BANNED(strncpy)
#undef sprintf
#define sprintf(...) PB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PB_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) PB_BANNED(strtok)
#undef gets
#define gets(x) PB_BANNED(gets)
#undef atoi
#define atoi(x) PB_BANNED(atoi)
#undef atol
#define atol(x) PB_BANNED(atol)

#endif
