// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_oddexp: a test-only dma-buf exporter of odd sizes and of another
 * device's P2P memory, and a kernel CPU user that holds vmaps.
 *
 * /dev/p2pbuf_oddexp (ioctls in p2pbuf_oddexp.h):
 *
 * - EXPORT makes a static dma-buf of any size, a multiple of the page size
 *   or not, backed by system pages or by P2P memory of a PCI function that
 *   registered some with pci_p2pdma_add_resource() (pci_alloc_p2pmem());
 *   map_dma_buf maps it with dma_map_sgtable() for the importer, so a P2P
 *   buffer is mapped by PCI bus address where the topology allows it;
 * - VMAP holds a dma_buf_vmap() of any dma-buf until VUNMAP or close;
 *   VMAP_PROBE calls an exporter's vmap and vunmap directly, under the
 *   dma-buf's lock as the core does, for tests that expect the vmap to
 *   fail (6.1's dma_buf_vmap() WARNs on every exporter error);
 * - STATUS counts the buffers, attachments and mappings alive, so tests
 *   see that an importer that refused a buffer left nothing behind.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pbuf_oddexp.h"

MODULE_IMPORT_NS(DMA_BUF);

#define OE_MAX_VMAPS	64
#define OE_MAX_COPY	4096

static atomic_t oe_buffers = ATOMIC_INIT(0);
static atomic_t oe_attachments = ATOMIC_INIT(0);
static atomic_t oe_mappings = ATOMIC_INIT(0);

/**
 * struct oe_buf - an exported buffer
 * @npages: pages backing it (the size rounded up)
 * @pages: the system pages, or NULL for P2P memory
 * @provider: the PCI function of the P2P memory, a reference, or NULL
 * @p2p: the P2P memory (pci_alloc_p2pmem()), @npages pages
 */
struct oe_buf {
	unsigned long npages;
	struct page **pages;
	struct pci_dev *provider;
	void *p2p;
};

/**
 * struct oe_vmap - a vmap a file holds
 * @dmabuf: the dma-buf, a reference; NULL for a free slot
 * @map: the mapping
 */
struct oe_vmap {
	struct dma_buf *dmabuf;
	struct iosys_map map;
};

/**
 * struct oe_file - an open file
 * @lock: serialises the ioctls of the file
 * @vmaps: the vmaps it holds
 */
struct oe_file {
	struct mutex lock; /* see above */
	struct oe_vmap vmaps[OE_MAX_VMAPS];
};

static int oe_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct oe_buf *buf = dmabuf->priv;

	if (buf->p2p && !attach->peer2peer)
		return -EOPNOTSUPP;
	atomic_inc(&oe_attachments);
	return 0;
}

static void oe_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	atomic_dec(&oe_attachments);
}

static struct sg_table *oe_map(struct dma_buf_attachment *attach,
			       enum dma_data_direction dir)
{
	struct oe_buf *buf = attach->dmabuf->priv;
	unsigned long len = buf->npages << PAGE_SHIFT;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (buf->p2p) {
		/* One chunk of the provider's pool: contiguous P2P pages. */
		ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
		if (!ret)
			sg_set_page(sgt->sgl, virt_to_page(buf->p2p), len, 0);
	} else {
		ret = sg_alloc_table_from_pages(sgt, buf->pages, buf->npages,
						0, len, GFP_KERNEL);
	}
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret) {
		sg_free_table(sgt);
		goto err_free;
	}
	atomic_inc(&oe_mappings);
	return sgt;

err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void oe_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
		     enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
	atomic_dec(&oe_mappings);
}

static void oe_buf_free(struct oe_buf *buf)
{
	unsigned long i;

	if (buf->p2p)
		pci_free_p2pmem(buf->provider, buf->p2p,
				buf->npages << PAGE_SHIFT);
	pci_dev_put(buf->provider);
	if (buf->pages) {
		for (i = 0; i < buf->npages; i++)
			if (buf->pages[i])
				__free_page(buf->pages[i]);
		kvfree(buf->pages);
	}
	kfree(buf);
}

static void oe_release(struct dma_buf *dmabuf)
{
	oe_buf_free(dmabuf->priv);
	atomic_dec(&oe_buffers);
}

static const struct dma_buf_ops oe_dmabuf_ops = {
	.attach = oe_attach,
	.detach = oe_detach,
	.map_dma_buf = oe_map,
	.unmap_dma_buf = oe_unmap,
	.release = oe_release,
};

static int oe_buf_alloc(struct oe_buf *buf, const struct p2pbuf_oddexp_export *args)
{
	struct device *dev;
	unsigned long i;

	if (args->flags & P2PBUF_ODDEXP_P2P) {
		dev = bus_find_device_by_name(&pci_bus_type, NULL,
					      args->provider);
		if (!dev)
			return -ENODEV;
		buf->provider = to_pci_dev(dev);
		buf->p2p = pci_alloc_p2pmem(buf->provider,
					    buf->npages << PAGE_SHIFT);
		return buf->p2p ? 0 : -ENOMEM;
	}
	buf->pages = kvcalloc(buf->npages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages)
		return -ENOMEM;
	for (i = 0; i < buf->npages; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!buf->pages[i])
			return -ENOMEM;
	}
	return 0;
}

static int oe_ioctl_export(void __user *argp)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pbuf_oddexp_export args;
	struct dma_buf *dmabuf;
	struct oe_buf *buf;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (!args.size || args.size > P2PBUF_ODDEXP_MAX_SIZE ||
	    (args.flags & ~P2PBUF_ODDEXP_P2P))
		return -EINVAL;
	if ((args.flags & P2PBUF_ODDEXP_P2P) &&
	    strnlen(args.provider, sizeof(args.provider)) ==
	    sizeof(args.provider))
		return -EINVAL;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->npages = DIV_ROUND_UP(args.size, PAGE_SIZE);
	ret = oe_buf_alloc(buf, &args);
	if (ret)
		goto err_free;

	exp_info.ops = &oe_dmabuf_ops;
	exp_info.size = args.size;
	exp_info.flags = O_RDWR | O_CLOEXEC;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	atomic_inc(&oe_buffers);
	/* From here on the dma-buf's release frees the buffer. */
	args.fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (args.fd < 0) {
		ret = args.fd;
		dma_buf_put(dmabuf);
		return ret;
	}
	if (copy_to_user(argp, &args, sizeof(args))) {
		/* The descriptor is the caller's now; it is closed with it. */
		return -EFAULT;
	}
	return 0;

err_free:
	oe_buf_free(buf);
	return ret;
}

static int oe_copy_out(struct p2pbuf_oddexp_vmap *args, struct dma_buf *dmabuf,
		       struct iosys_map *map)
{
	void *bounce;
	int ret = 0;

	if (!args->length)
		return 0;
	bounce = kmalloc(args->length, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	iosys_map_memcpy_from(bounce, map, 0, args->length);
	if (copy_to_user(u64_to_user_ptr(args->data), bounce, args->length))
		ret = -EFAULT;
	kfree(bounce);
	return ret;
}

static struct dma_buf *oe_vmap_args(void __user *argp,
				    struct p2pbuf_oddexp_vmap *args)
{
	struct dma_buf *dmabuf;

	if (copy_from_user(args, argp, sizeof(*args)))
		return ERR_PTR(-EFAULT);
	if (args->pad || args->length > OE_MAX_COPY)
		return ERR_PTR(-EINVAL);
	dmabuf = dma_buf_get(args->fd);
	if (IS_ERR(dmabuf))
		return dmabuf;
	if (args->length > dmabuf->size || !dmabuf->ops->vmap) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf;
}

static int oe_ioctl_vmap(struct oe_file *f, void __user *argp)
{
	struct p2pbuf_oddexp_vmap args;
	struct dma_buf *dmabuf;
	struct oe_vmap *v = NULL;
	unsigned int i;
	int ret;

	dmabuf = oe_vmap_args(argp, &args);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	for (i = 0; i < OE_MAX_VMAPS && !v; i++)
		if (!f->vmaps[i].dmabuf)
			v = &f->vmaps[i];
	if (!v) {
		ret = -EMFILE;
		goto err_put;
	}
	ret = dma_buf_vmap(dmabuf, &v->map);
	if (ret)
		goto err_put;
	ret = oe_copy_out(&args, dmabuf, &v->map);
	args.id = v - f->vmaps + 1;
	if (!ret && copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
	if (ret) {
		dma_buf_vunmap(dmabuf, &v->map);
		goto err_put;
	}
	v->dmabuf = dmabuf;
	return 0;

err_put:
	dma_buf_put(dmabuf);
	return ret;
}

static void oe_vunmap(struct oe_vmap *v)
{
	dma_buf_vunmap(v->dmabuf, &v->map);
	dma_buf_put(v->dmabuf);
	v->dmabuf = NULL;
}

static int oe_ioctl_vunmap(struct oe_file *f, unsigned long id)
{
	if (!id || id > OE_MAX_VMAPS || !f->vmaps[id - 1].dmabuf)
		return -ENOENT;
	oe_vunmap(&f->vmaps[id - 1]);
	return 0;
}

static int oe_ioctl_vmap_probe(void __user *argp)
{
	struct p2pbuf_oddexp_vmap args;
	struct dma_buf *dmabuf;
	struct iosys_map map;
	int ret;

	dmabuf = oe_vmap_args(argp, &args);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* As dma_buf_vmap() calls it, without its WARN on failure. */
	mutex_lock(&dmabuf->lock);
	ret = dmabuf->ops->vmap(dmabuf, &map);
	if (!ret) {
		ret = oe_copy_out(&args, dmabuf, &map);
		if (dmabuf->ops->vunmap)
			dmabuf->ops->vunmap(dmabuf, &map);
	}
	mutex_unlock(&dmabuf->lock);
	dma_buf_put(dmabuf);
	return ret;
}

static int oe_ioctl_status(struct oe_file *f, void __user *argp)
{
	struct p2pbuf_oddexp_status args = {
		.buffers = atomic_read(&oe_buffers),
		.attachments = atomic_read(&oe_attachments),
		.mappings = atomic_read(&oe_mappings),
	};
	unsigned int i;

	for (i = 0; i < OE_MAX_VMAPS; i++)
		args.vmaps += !!f->vmaps[i].dmabuf;
	return copy_to_user(argp, &args, sizeof(args)) ? -EFAULT : 0;
}

static long oe_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct oe_file *f = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	mutex_lock(&f->lock);
	switch (cmd) {
	case P2PBUF_ODDEXP_IOCTL_EXPORT:
		ret = oe_ioctl_export(argp);
		break;
	case P2PBUF_ODDEXP_IOCTL_VMAP:
		ret = oe_ioctl_vmap(f, argp);
		break;
	case P2PBUF_ODDEXP_IOCTL_VUNMAP:
		ret = oe_ioctl_vunmap(f, arg);
		break;
	case P2PBUF_ODDEXP_IOCTL_VMAP_PROBE:
		ret = oe_ioctl_vmap_probe(argp);
		break;
	case P2PBUF_ODDEXP_IOCTL_STATUS:
		ret = oe_ioctl_status(f, argp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int oe_open(struct inode *inode, struct file *file)
{
	struct oe_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int oe_file_release(struct inode *inode, struct file *file)
{
	struct oe_file *f = file->private_data;
	unsigned int i;

	for (i = 0; i < OE_MAX_VMAPS; i++)
		if (f->vmaps[i].dmabuf)
			oe_vunmap(&f->vmaps[i]);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations oe_fops = {
	.owner = THIS_MODULE,
	.open = oe_open,
	.release = oe_file_release,
	.unlocked_ioctl = oe_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice oe_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "p2pbuf_oddexp",
	.fops = &oe_fops,
};

module_misc_device(oe_misc);

MODULE_DESCRIPTION("p2pbuf test-only exporter of odd dma-bufs and vmap holder");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
