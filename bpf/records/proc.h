/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of processes acting on credentials and on other processes: cred changes, ptrace, signals. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_PROC_H
#define VIGIL_RECORDS_PROC_H

#endif /* VIGIL_RECORDS_PROC_H */
