/*
** netwatch.c (linux): link, address and route changes from the kernel
** (rtnetlink), so the daemon tries its replica the moment a network comes
** up instead of at its next backoff (see port.h).
*/
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"

/* The rtnetlink ABI (linux/netlink.h, linux/rtnetlink.h), which the musl
** toolchain's headers lack; these numbers are fixed by the kernel's ABI. */
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define NETLINK_ROUTE 0
#define RTMGRP_LINK 0x1
#define RTMGRP_IPV4_IFADDR 0x10
#define RTMGRP_IPV4_ROUTE 0x40
#define RTMGRP_IPV6_IFADDR 0x100
#define RTMGRP_IPV6_ROUTE 0x400
#define RTM_NEWLINK 16
#define RTM_NEWADDR 20
#define RTM_NEWROUTE 24

struct sockaddr_nl {
	unsigned short nl_family;
	unsigned short nl_pad;
	uint32_t nl_pid;
	uint32_t nl_groups;
};

struct nlmsghdr {
	uint32_t nlmsg_len;
	uint16_t nlmsg_type;
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
};

struct ifinfomsg {
	unsigned char ifi_family;
	unsigned char ifi_pad;
	unsigned short ifi_type;
	int ifi_index;
	unsigned ifi_flags;
	unsigned ifi_change;
};

#define NLMSG_ALIGN(len) (((len) + 3u) & ~3u)
#define NLMSG_HDRLEN ((int)NLMSG_ALIGN(sizeof(struct nlmsghdr)))

int port_netwatch_open(int *fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
					       RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	*fd = -1;
	if (s < 0)
		return errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT ? HF_ENOTSUP
									 : port_syserr("socket", "netlink", errno);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(s);
		return port_syserr("bind", "netlink", e);
	}
	*fd = s;
	return HF_OK;
}

bool port_netwatch_read(int fd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	bool up = false;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
			if (h->nlmsg_len < sizeof(*h) || off + h->nlmsg_len > (size_t)n)
				break;
			if (h->nlmsg_type == RTM_NEWLINK &&
			    h->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct ifinfomsg)) {
				const struct ifinfomsg *ifi =
					(const struct ifinfomsg *)((const char *)h + NLMSG_HDRLEN);
				up |= (ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
			} else if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_NEWROUTE) {
				up = true;
			}
			off += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
	/* ENOBUFS: events were lost while we were busy; something may be up. */
	if (n < 0 && errno == ENOBUFS)
		up = true;
	return up;
}

/*
** The default route's link, from the kernel's route tables as procfs shows
** them: IPv4's (/proc/net/route: Iface, Destination, Gateway, Flags,
** RefCnt, Use, Metric, Mask, ...) with the lowest metric, else IPv6's
** (/proc/net/ipv6_route: destination, its prefix length, source, its
** length, next hop, metric, refcount, use, flags, device). Routes not up,
** and reject routes (IPv6 puts one on lo), are not routes out.
*/
#define RTF_UP 0x1
#define RTF_REJECT 0x200

static bool default_v4(FILE *f, char *name, size_t cap)
{
	char line[512], ifc[64];
	unsigned dst, gw, flags, ref, use, metric, mask, best = ~0u;
	bool found = false;

	if (!fgets(line, sizeof(line), f)) /* the header */
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifc, &dst, &gw, &flags, &ref, &use,
			   &metric, &mask) == 8 &&
		    dst == 0 && mask == 0 && (flags & RTF_UP) && !(flags & RTF_REJECT) &&
		    metric < best) {
			best = metric;
			snprintf(name, cap, "%s", ifc);
			found = true;
		}
	return found;
}

static bool default_v6(FILE *f, char *name, size_t cap)
{
	char line[512], dst[40], src[40], hop[40], ifc[64];
	unsigned plen, slen, metric, ref, use, flags, best = ~0u;
	bool found = false;

	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", dst, &plen, src, &slen, hop,
			   &metric, &ref, &use, &flags, ifc) == 10 &&
		    plen == 0 && strspn(dst, "0") == 32 && (flags & RTF_UP) &&
		    !(flags & RTF_REJECT) && strcmp(ifc, "lo") != 0 && metric < best) {
			best = metric;
			snprintf(name, cap, "%s", ifc);
			found = true;
		}
	return found;
}

int port_net_default_link(char *name, size_t cap)
{
	static const char *const tables[] = { "/proc/net/route", "/proc/net/ipv6_route" };
	bool found = false;

	for (int i = 0; i < 2 && !found; i++) {
		FILE *f = fopen(tables[i], "re");
		if (!f)
			continue;
		found = i == 0 ? default_v4(f, name, cap) : default_v6(f, name, cap);
		fclose(f);
	}
	return found ? HF_OK : HF_ENOENT;
}

/* Whether any route leads off this machine: one that is up, not a reject
** route, by a link other than lo, and for IPv6 not link-local (fe80::/10)
** or multicast (ff00::/8), which every link up has. */
bool port_net_online(void)
{
	char line[512], a[40], b[40], c[40], ifc[64];
	unsigned x, y, flags, metric, ref, use;
	bool on = false;
	FILE *f;

	if ((f = fopen("/proc/net/route", "re"))) {
		while (!on && fgets(line, sizeof(line), f))
			on = sscanf(line, "%63s %39s %39s %x", ifc, a, b, &flags) == 4 &&
			     strcmp(ifc, "Iface") != 0 && strcmp(ifc, "lo") != 0 &&
			     (flags & RTF_UP) && !(flags & RTF_REJECT);
		fclose(f);
	}
	if (!on && (f = fopen("/proc/net/ipv6_route", "re"))) {
		while (!on && fgets(line, sizeof(line), f))
			on = sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", a, &x, b, &y, c,
				    &metric, &ref, &use, &flags, ifc) == 10 &&
			     strcmp(ifc, "lo") != 0 && (flags & RTF_UP) && !(flags & RTF_REJECT) &&
			     strncmp(a, "fe8", 3) != 0 && strncmp(a, "fe9", 3) != 0 &&
			     strncmp(a, "fea", 3) != 0 && strncmp(a, "feb", 3) != 0 &&
			     strncmp(a, "ff", 2) != 0;
		fclose(f);
	}
	return on;
}
