/*
 * version.h - the one place the leadrouter version is written down, so that
 * --version, logs and any metrics label always agree.
 */
#ifndef LR_VERSION_H
#define LR_VERSION_H

#define LEADROUTER_VERSION "0.1.0"

#endif
