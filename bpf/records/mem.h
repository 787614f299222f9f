/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the memory: writable+executable mappings, memfd_create. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_MEM_H
#define VIGIL_RECORDS_MEM_H

#endif /* VIGIL_RECORDS_MEM_H */
