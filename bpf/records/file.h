/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the files: open, unlink, rename, chmod, chown, link, symlink, mkdir, truncate. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_FILE_H
#define VIGIL_RECORDS_FILE_H

#endif /* VIGIL_RECORDS_FILE_H */
