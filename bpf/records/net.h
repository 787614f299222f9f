/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records of the network: connect, accept, bind, listen, DNS queries. Included by vigil.h only. */
#ifndef VIGIL_RECORDS_NET_H
#define VIGIL_RECORDS_NET_H

#endif /* VIGIL_RECORDS_NET_H */
