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
** The kernel's route tables as procfs shows them. /proc/net/route (IPv4,
** after a header line): Iface, Destination, Gateway, Flags, RefCnt, Use,
** Metric, Mask, ... /proc/net/ipv6_route: destination, its prefix length,
** source, its length, next hop, metric, refcount, use, flags, device.
** Routes not up, and reject routes (IPv6 puts one on lo), lead nowhere.
*/
#define RTF_UP 0x1
#define RTF_REJECT 0x200

struct route {
	char link[64];
	char dst6[40];       /* IPv6: the destination, 32 hex digits */
	bool is_default;     /* destination 0/0 */
	unsigned metric;
};

/* The next usable route of F (IPv6 when V6) into R; false at the end. */
static bool next_route(FILE *f, bool v6, struct route *r)
{
	char line[512], src[40], hop[40];
	unsigned dst, gw, flags, ref, use, mask, plen, slen;

	while (fgets(line, sizeof(line), f)) {
		if (v6 ? sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", r->dst6, &plen, src,
				&slen, hop, &r->metric, &ref, &use, &flags, r->link) != 10 :
			 sscanf(line, "%63s %x %x %x %u %u %u %x", r->link, &dst, &gw, &flags, &ref,
				&use, &r->metric, &mask) != 8)
			continue; /* the IPv4 header line, or not a route */
		if (!(flags & RTF_UP) || (flags & RTF_REJECT) || !strcmp(r->link, "lo"))
			continue;
		r->is_default = v6 ? plen == 0 && strspn(r->dst6, "0") == 32 : dst == 0 && mask == 0;
		if (!v6)
			r->dst6[0] = '\0';
		return true;
	}
	return false;
}

static FILE *routes(bool v6)
{
	return fopen(v6 ? "/proc/net/ipv6_route" : "/proc/net/route", "re");
}

int port_net_default_link(char *name, size_t cap)
{
	unsigned best = ~0u;
	struct route r;

	for (int v6 = 0; v6 < 2 && best == ~0u; v6++) {
		FILE *f = routes(v6);
		if (!f)
			continue;
		while (next_route(f, v6, &r))
			if (r.is_default && r.metric < best) {
				best = r.metric;
				snprintf(name, cap, "%s", r.link);
			}
		fclose(f);
	}
	return best != ~0u ? HF_OK : HF_ENOENT;
}

/* Whether any route leads off this machine: for IPv6 one that is not
** link-local (fe80::/10) or multicast (ff00::/8), which every link up has. */
bool port_net_online(void)
{
	bool on = false;
	struct route r;

	for (int v6 = 0; v6 < 2 && !on; v6++) {
		FILE *f = routes(v6);
		if (!f)
			continue;
		while (!on && next_route(f, v6, &r))
			on = !v6 || (strncmp(r.dst6, "ff", 2) != 0 &&
				     !(r.dst6[0] == 'f' && r.dst6[1] == 'e' && strchr("89ab", r.dst6[2])));
		fclose(f);
	}
	return on;
}
