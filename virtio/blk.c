/*
 * blk.c - virtio-blk device (virtio 1.x, section 5.2) on a raw image.
 *
 * One request queue, served synchronously on the I/O thread: each request
 * finishes (preadv/pwritev/fdatasync/fallocate returned) before the next is
 * taken, so a flush is answered only after every write before it reached the
 * file and fdatasync() returned.
 *
 * Request layout as the driver sends it: a 16-byte header (type, ioprio,
 * sector) at the start of the readable part, data (readable for writes,
 * writable for reads), and the status byte as the last writable byte. A
 * request with no writable byte cannot be answered: the queue is marked
 * broken. Every other malformed request is answered with IOERR or UNSUPP.
 *
 * Thread ownership: struct vblk is constant after vblk_create except the
 * scratch chain and iovec, which only the I/O thread uses under the device lock.
 */
#include "virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

#define SECTOR 512u
#define MAX_RANGE_SECTORS 0x7fffffu   /* 4 GiB - 512 per discard/write-zeroes range */

struct vblk {
	struct virtio_dev dev;          /* first: the transport sees this */
	int fd;
	bool read_only;
	bool can_punch, can_zero;       /* fallocate modes the image supports */
	uint64_t sectors;               /* capacity */
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtq_chain chain;       /* I/O thread scratch */
	struct iovec data[VIRTQ_CHAIN_MAX];
};

static struct vblk *to_vblk(struct virtio_dev *d)
{
	return (struct vblk *)d;
}

static bool range_ok(const struct vblk *b, uint64_t sector, uint64_t count)
{
	return sector <= b->sectors && count <= b->sectors - sector;
}

/* Transfers all of iov[0..n) at off, resuming after short transfers. */
static int rw_full(int fd, struct iovec *iov, int n, off_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;   /* error, or the file shrank under us */
		off += r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Reads or writes `len` bytes of the chain's data part at `sector`. */
static uint8_t do_rw(struct vblk *b, uint64_t sector, uint64_t data_off, uint64_t len,
		     bool write)
{
	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	/* The used length is 32 bits, so one request moves less than 4 GiB. */
	if (len % SECTOR || len >= UINT32_MAX || !range_ok(b, sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	/* Reads fill the writable part, writes drain the readable part. */
	int n = virtq_chain_slice(&b->chain, !write, data_off, len, b->data, VIRTQ_CHAIN_MAX);
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	if (rw_full(b->fd, b->data, n, (off_t)(sector * SECTOR), write) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_flush(struct vblk *b)
{
	if (!virtio_dev_has(&b->dev, VIRTIO_BLK_F_FLUSH))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->read_only)
		return VIRTIO_BLK_S_OK;
	return fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* Writes the serial, NUL-padded, into as much of the id buffer as exists. */
static uint8_t do_get_id(struct vblk *b, uint64_t room, uint32_t *data_len)
{
	size_t n = room < sizeof(b->serial) ? (size_t)room : sizeof(b->serial);
	if (virtq_chain_write(&b->chain, 0, b->serial, n) < 0)
		return VIRTIO_BLK_S_IOERR;
	*data_len = (uint32_t)n;
	return VIRTIO_BLK_S_OK;
}

/* One discard or write-zeroes range. */
static uint8_t do_range(struct vblk *b, bool discard, const struct virtio_blk_discard_write_zeroes *r)
{
	uint64_t sector = le64toh(r->sector);
	uint32_t count = le32toh(r->num_sectors), flags = le32toh(r->flags);
	bool unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

	if (discard ? flags != 0 : (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (count > MAX_RANGE_SECTORS || !range_ok(b, sector, count))
		return VIRTIO_BLK_S_IOERR;
	if (count == 0)
		return VIRTIO_BLK_S_OK;
	/* A punched hole reads back as zeroes, so it also serves write-zeroes
	 * when the driver allows unmapping. */
	int mode = (discard || (unmap && b->can_punch)) ?
			   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
			   FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(b->fd, mode, (off_t)(sector * SECTOR), (off_t)count * SECTOR) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_ranges(struct vblk *b, bool discard, uint64_t bytes)
{
	unsigned feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	if (!virtio_dev_has(&b->dev, feature))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->read_only)
		return VIRTIO_BLK_S_IOERR;
	struct virtio_blk_discard_write_zeroes r;
	if (bytes == 0 || bytes % sizeof(r) || bytes / sizeof(r) > VBLK_MAX_RANGES)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = 0; off < bytes; off += sizeof(r)) {
		if (virtq_chain_read(&b->chain, sizeof(struct virtio_blk_outhdr) + off, &r,
				     sizeof(r)) < 0)
			return VIRTIO_BLK_S_IOERR;
		uint8_t s = do_range(b, discard, &r);
		if (s != VIRTIO_BLK_S_OK)
			return s;
	}
	return VIRTIO_BLK_S_OK;
}

/* Runs one request; *data_len is how many bytes before the status byte the
 * device wrote. Returns the status byte. */
static uint8_t handle(struct vblk *b, uint32_t *data_len)
{
	const struct virtq_chain *c = &b->chain;
	struct virtio_blk_outhdr h;
	uint64_t hdr = sizeof(h);
	uint64_t room = c->write_len - 1;   /* writable bytes before the status */

	*data_len = 0;
	if (virtq_chain_read(c, 0, &h, sizeof(h)) < 0)
		return VIRTIO_BLK_S_IOERR;
	uint64_t sector = le64toh(h.sector);
	switch (le32toh(h.type)) {
	case VIRTIO_BLK_T_IN: {
		uint8_t s = do_rw(b, sector, 0, room, false);
		if (s == VIRTIO_BLK_S_OK)
			*data_len = (uint32_t)room;
		return s;
	}
	case VIRTIO_BLK_T_OUT:
		return do_rw(b, sector, hdr, c->read_len - hdr, true);
	case VIRTIO_BLK_T_FLUSH:
		return do_flush(b);
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(b, room, data_len);
	case VIRTIO_BLK_T_DISCARD:
		return do_ranges(b, true, c->read_len - hdr);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return do_ranges(b, false, c->read_len - hdr);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void vblk_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vblk *b = to_vblk(d);
	struct virtq *q = &d->vqs[qi];
	bool pushed = false;
	unsigned budget = VIRTIO_DEV_BUDGET;

	while (virtio_dev_pop(d, qi, &b->chain, &budget) == 1) {
		const struct virtq_chain *c = &b->chain;
		if (c->write_len == 0) {
			virtq_set_broken(q, "virtio-blk: request without a status byte");
			break;
		}
		uint32_t data_len;
		uint8_t status = handle(b, &data_len);
		virtq_chain_write(c, c->write_len - 1, &status, 1);
		virtq_push(q, c->head, data_len + 1);
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(d, q);
}

static void vblk_destroy(struct virtio_dev *d)
{
	struct vblk *b = to_vblk(d);
	if (b->fd >= 0)
		close(b->fd);   /* also drops the OFD lock */
	free(b);
}

static const struct virtio_dev_ops vblk_ops = {
	.name = "virtio-blk",
	.queue_notify = vblk_queue_notify,
	.destroy = vblk_destroy,
};

/* Learns which fallocate modes work, on a range past the end of the file so
 * no data is touched; KEEP_SIZE keeps the size. Zeroing past the end may
 * still allocate blocks there (ext4 does): truncating to the same size gives
 * them back. The caller holds the image's write lock. */
static void probe_fallocate(struct vblk *b, uint64_t size)
{
	off_t off = (off_t)((size + 4095) & ~4095ull);
	b->can_punch = fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, 4096) == 0;
	b->can_zero = fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, 4096) == 0;
	if (b->can_zero && ftruncate(b->fd, (off_t)size) < 0)
		b->can_zero = false;
}

/* Opens, sizes and locks one image; on failure nothing is left open. */
static int open_image(const char *path, bool read_only, int *fdp, uint64_t *size,
		      struct arcvm_error *err)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, err_from_errno(errno), errno, "cannot open disk image %s",
				 path);
	int rc = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot stat disk image %s", path);
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			rc = err_errno(err, ARCVM_E_IO, errno, "cannot size block device %s", path);
	} else {
		rc = err_set(err, ARCVM_E_INVALID,
			     "disk image %s is neither a regular file nor a block device", path);
	}
	struct flock fl = { .l_type = read_only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	if (!rc && fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			rc = err_set(err, ARCVM_E_BUSY,
				     "disk image %s is in use by another VM (locked)", path);
		else
			rc = err_errno(err, ARCVM_E_IO, errno, "cannot lock disk image %s", path);
	}
	if (rc) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

static void fill_config(struct vblk *b, const struct arcvm_drive *drive)
{
	struct virtio_dev *d = &b->dev;
	struct virtio_blk_config *c = &b->config;
	d->features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		      (1ull << VIRTQ_F_INDIRECT_DESC) | (1ull << VIRTQ_F_EVENT_IDX);
	if (b->read_only)
		d->features |= 1ull << VIRTIO_BLK_F_RO;
	/* Unsafe mode hides flush: the guest then never waits for the disk. */
	if (drive->cache == ARCVM_CACHE_WRITEBACK)
		d->features |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (b->can_punch)
		d->features |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (b->can_zero)
		d->features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;

	c->capacity = htole64(b->sectors);
	c->seg_max = htole32(VBLK_SEG_MAX);
	c->blk_size = htole32(SECTOR);
	c->max_discard_sectors = htole32(MAX_RANGE_SECTORS);
	c->max_discard_seg = htole32(VBLK_MAX_RANGES);
	c->discard_sector_alignment = htole32(4096 / SECTOR);
	c->max_write_zeroes_sectors = htole32(MAX_RANGE_SECTORS);
	c->max_write_zeroes_seg = htole32(VBLK_MAX_RANGES);
	c->write_zeroes_may_unmap = b->can_punch;

	d->ops = &vblk_ops;
	d->device_id = VIRTIO_ID_BLK;
	d->nqueues = 1;
	d->queue_max[0] = VBLK_QUEUE_SIZE;
	d->config = c;
	d->config_len = sizeof(*c);
}

int vblk_create(const struct arcvm_drive *drive, struct virtio_dev **out, struct arcvm_error *err)
{
	if (!drive->path || !drive->path[0])
		return err_set(err, ARCVM_E_INVALID, "drive: empty path");
	if (drive->id && strlen(drive->id) > VIRTIO_BLK_ID_BYTES)
		return err_set(err, ARCVM_E_INVALID, "drive %s: id \"%s\" is longer than %d bytes",
			       drive->path, drive->id, VIRTIO_BLK_ID_BYTES);
	if (drive->cache != ARCVM_CACHE_WRITEBACK && drive->cache != ARCVM_CACHE_UNSAFE)
		return err_set(err, ARCVM_E_INVALID, "drive %s: unknown cache mode %d", drive->path,
			       (int)drive->cache);
	struct vblk *b = calloc(1, sizeof(*b));
	if (!b)
		return err_set(err, ARCVM_E_NOMEM, "drive %s: out of memory", drive->path);
	b->fd = -1;
	b->read_only = drive->read_only;
	if (drive->id)
		memcpy(b->serial, drive->id, strlen(drive->id));

	uint64_t size = 0;
	int rc = open_image(drive->path, drive->read_only, &b->fd, &size, err);
	if (rc < 0) {
		b->fd = -1;
		vblk_destroy(&b->dev);
		return rc;
	}
	if (!b->read_only)
		probe_fallocate(b, size);
	b->sectors = size / SECTOR;
	fill_config(b, drive);
	*out = &b->dev;
	return 0;
}

/*
 * Called from the VM's controlling thread while the I/O thread may be serving
 * the queue: the new image is opened, sized and locked first, then swapped in
 * under the device lock, so a request in progress finishes on the old image
 * and the next one uses the new. The discard and write-zeroes features stay
 * as negotiated; on an image that cannot punch holes such requests fail with
 * an I/O error. The capacity and the config generation change together under
 * the lock, and a configuration-change interrupt tells the driver to re-read.
 */
int vblk_replace_image(struct virtio_dev *d, const char *path, struct arcvm_error *err)
{
	struct vblk *b = to_vblk(d);
	if (d->ops != &vblk_ops)
		return err_set(err, ARCVM_E_INVALID, "device %s is not a virtio-blk device",
			       d->ops->name);
	if (!path || !path[0])
		return err_set(err, ARCVM_E_INVALID, "drive: empty path");
	int fd;
	uint64_t size = 0;
	int rc = open_image(path, b->read_only, &fd, &size, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->lock);
	int old = b->fd;
	b->fd = fd;
	if (!b->read_only)
		probe_fallocate(b, size);
	b->sectors = size / SECTOR;
	b->config.capacity = htole64(b->sectors);
	d->config_generation++;
	pthread_mutex_unlock(&d->lock);
	close(old);   /* drops the old image's lock */
	virtio_dev_config_changed(d);
	return 0;
}
