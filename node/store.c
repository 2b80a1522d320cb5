/* store.c -- the node's files in its state directory: key, certificate, chain, status, DC ticket and K_ND, kept across restarts. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config_table.h"
#include "crypto.h"
#include "log.h"
#include "store.h"

static int
store_path(char *out, size_t cap, const char *dir, const char *name,
    const char *suffix)
{
	int n;

	n = snprintf(out, cap, "%s/%s%s", dir, name, suffix);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
store_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const uint8_t *p = data;
	ssize_t n;
	int fd, rc = 0;

	if ((rc = store_path(path, sizeof(path), dir, name, "")) < 0 ||
	    (rc = store_path(tmp, sizeof(tmp), dir, name, ".tmp")) < 0)
		return rc;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return rc;
}

int
store_read(const char *dir, const char *name, void *buf, size_t cap,
    size_t *lenp)
{
	char path[PATH_MAX], why[256];
	struct stat st;
	uint8_t *p = buf;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((rc = store_path(path, sizeof(path), dir, name, "")) < 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if (config_check_private_fd(fd, path, why, sizeof(why)) < 0) {
		log_warnx("%s", why);
		rc = -EPERM;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((size_t)st.st_size > cap) {
		rc = -EFBIG;
		goto out;
	}
	while (len < cap) {
		if ((n = read(fd, p + len, cap - len)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
store_ticket_save(const char *dir, const struct store_ticket *t)
{
	uint8_t kf[STORE_TICKET_KEY_LEN];
	int rc;

	if (t->len < PROTO_TICKET_MIN || t->len > PROTO_TICKET_MAX)
		return -EINVAL;
	memcpy(kf, t->k_nd, PROTO_KEY_LEN);
	store_be64(kf + PROTO_KEY_LEN, t->expiry);
	/* Key first: a ticket without its key is useless, not dangerous. */
	rc = store_write(dir, STORE_TICKET_KEY, kf, sizeof(kf));
	crypto_wipe(kf, sizeof(kf));
	if (rc == 0)
		rc = store_write(dir, STORE_TICKET, t->ticket, t->len);
	return rc;
}

int
store_ticket_load(const char *dir, struct store_ticket *t)
{
	uint8_t kf[STORE_TICKET_KEY_LEN + 1];
	size_t len;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = store_read(dir, STORE_TICKET_KEY, kf, sizeof(kf), &len)) < 0)
		return rc;
	if (len != STORE_TICKET_KEY_LEN) {
		crypto_wipe(kf, sizeof(kf));
		return -EINVAL;
	}
	memcpy(t->k_nd, kf, PROTO_KEY_LEN);
	t->expiry = load_be64(kf + PROTO_KEY_LEN);
	crypto_wipe(kf, sizeof(kf));
	rc = store_read(dir, STORE_TICKET, t->ticket, sizeof(t->ticket),
	    &t->len);
	if (rc == 0 && t->len < PROTO_TICKET_MIN)
		rc = -EINVAL;
	if (rc < 0)
		crypto_wipe(t, sizeof(*t));
	return rc;
}

void
store_ticket_remove(const char *dir)
{
	char path[PATH_MAX];

	if (store_path(path, sizeof(path), dir, STORE_TICKET, "") == 0)
		(void)unlink(path);
	if (store_path(path, sizeof(path), dir, STORE_TICKET_KEY, "") == 0)
		(void)unlink(path);
}
