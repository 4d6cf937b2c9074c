// SPDX-License-Identifier: MIT
/*
 * vk-p2pbuf: the Vulkan side of tests/uapi/p2pbuf_vulkan. Runs in the
 * trixie root (tests/vulkan/build-root.sh) on Mesa's lavapipe.
 *
 *   vk-p2pbuf FD      FD: a SOCK_SEQPACKET socket to the exporter
 *
 * Receives one dma-buf with p2pbuf_recv(), imports it as VkDeviceMemory
 * (VK_EXT_external_memory_dma_buf) bound to a VkBuffer, then does what the
 * exporter asks, one struct vkp_msg at a time (tests/vulkan/vk_proto.h).
 * The import is also a storage buffer for a compute shader (fill.comp,
 * compiled to SPIR-V at build time and embedded: fill.spv.h).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <vulkan/vulkan.h>

#include <p2pbuf/p2pbuf.h>
#include <p2pbuf/p2pbuf_vulkan.h>

#include "vk_proto.h"
#include "fill.spv.h"	/* fill_spv[]: glslangValidator --vn fill_spv */

/* fill.comp's local_size_x. */
#define FILL_GROUP 64

#define VKC(expr) do {							\
	VkResult r_ = (expr);						\
	if (r_ != VK_SUCCESS) {						\
		fail("%s: VkResult %d", #expr, r_);			\
		return -EIO;						\
	}								\
} while (0)

static char why[240];

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vk-p2pbuf: %s\n", why);
}

struct buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;
};

static struct {
	VkInstance inst;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	int busy;		/* fence pending: submitted, not waited */
	VkSemaphore sems[2];	/* the pending submission's semaphores */
	int export_fd;		/* VKP_EXPORT's dma-buf, sent after the answer */
	unsigned int caps;
	VkPhysicalDeviceMemoryProperties memprops;
	VkPhysicalDeviceLimits limits;
	/* fill.comp's pipeline, made on the first VKP_COMPUTE */
	VkShaderModule shader;
	VkDescriptorSetLayout dsl;
	VkDescriptorPool dpool;
	VkDescriptorSet dset;
	VkPipelineLayout playout;
	VkPipeline pipe;
	PFN_vkGetMemoryFdPropertiesKHR get_fd_props;
	PFN_vkGetMemoryFdKHR get_memory_fd;
	PFN_vkImportSemaphoreFdKHR import_sem_fd;
	PFN_vkGetSemaphoreFdKHR get_sem_fd;
	int dmabuf;
	uint64_t size;
	struct buf imp, staging, readback;
} vk;

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(e[i].extensionName, name))
			return 1;
	return 0;
}

static int host_type(uint32_t bits)
{
	VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
				     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

	for (uint32_t i = 0; i < vk.memprops.memoryTypeCount; i++)
		if ((bits & (1u << i)) &&
		    (vk.memprops.memoryTypes[i].propertyFlags & want) == want)
			return (int)i;
	return -1;
}

static int init(void)
{
	const char *exts[3] = {
		VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME,
		VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME,
		VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME,
	};
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "vk-p2pbuf",
		.apiVersion = VK_API_VERSION_1_2,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkPhysicalDevice devs[8];
	uint32_t ndev = 8, next = 0, nexts;
	VkExtensionProperties *props;
	VkPhysicalDeviceProperties pp;
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = 0,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
		.ppEnabledExtensionNames = exts,
	};
	VkPhysicalDeviceExternalSemaphoreInfo esi = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkExternalSemaphoreProperties esp = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES,
	};
	VkPhysicalDeviceExternalBufferInfo ebi = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkExternalBufferProperties ebp = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES,
	};
	VkPhysicalDeviceExternalBufferInfo sbi = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT |
			 VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkExternalBufferProperties sbp = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES,
	};
	VkCommandPoolCreateInfo cpi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	};
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };

	VKC(vkCreateInstance(&ici, NULL, &vk.inst));
	VKC(vkEnumeratePhysicalDevices(vk.inst, &ndev, devs));
	if (!ndev) {
		fail("no Vulkan device");
		return -ENODEV;
	}
	vk.phys = devs[0];
	vkGetPhysicalDeviceProperties(vk.phys, &pp);
	vk.limits = pp.limits;
	fprintf(stderr, "vk-p2pbuf: %s, Vulkan %u.%u, driver %#x\n",
		pp.deviceName, VK_API_VERSION_MAJOR(pp.apiVersion),
		VK_API_VERSION_MINOR(pp.apiVersion), pp.driverVersion);
	VKC(vkEnumerateDeviceExtensionProperties(vk.phys, NULL, &nexts, NULL));
	props = calloc(nexts, sizeof(*props));
	if (!props)
		return -ENOMEM;
	VKC(vkEnumerateDeviceExtensionProperties(vk.phys, NULL, &nexts, props));
	for (int i = 0; i < 2; i++) {
		if (!has_ext(props, nexts, exts[i])) {
			fail("%s lacks %s", pp.deviceName, exts[i]);
			free(props);
			return -EOPNOTSUPP;
		}
	}
	next = 2;
	if (has_ext(props, nexts, exts[2]))
		next = 3;
	free(props);

	if (next == 3) {
		vkGetPhysicalDeviceExternalSemaphoreProperties(vk.phys, &esi, &esp);
		if ((esp.externalSemaphoreFeatures &
		     (VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
		      VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT)) ==
		    (VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
		     VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT))
			vk.caps |= VKP_CAP_SYNC_FD;
	}
	vkGetPhysicalDeviceExternalBufferProperties(vk.phys, &ebi, &ebp);
	if (ebp.externalMemoryProperties.externalMemoryFeatures &
	    VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT)
		vk.caps |= VKP_CAP_EXPORT;
	if (!(ebp.externalMemoryProperties.externalMemoryFeatures &
	      VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT)) {
		fail("%s cannot import dma-buf buffers", pp.deviceName);
		return -EOPNOTSUPP;
	}
	/* A storage buffer too, for the compute shader? */
	vkGetPhysicalDeviceExternalBufferProperties(vk.phys, &sbi, &sbp);
	if (sbp.externalMemoryProperties.externalMemoryFeatures &
	    VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT)
		vk.caps |= VKP_CAP_COMPUTE;

	dci.enabledExtensionCount = next;
	VKC(vkCreateDevice(vk.phys, &dci, NULL, &vk.dev));
	vkGetDeviceQueue(vk.dev, 0, 0, &vk.queue);
	vkGetPhysicalDeviceMemoryProperties(vk.phys, &vk.memprops);
	vk.get_fd_props = (PFN_vkGetMemoryFdPropertiesKHR)
		vkGetDeviceProcAddr(vk.dev, "vkGetMemoryFdPropertiesKHR");
	vk.get_memory_fd = (PFN_vkGetMemoryFdKHR)
		vkGetDeviceProcAddr(vk.dev, "vkGetMemoryFdKHR");
	if (next == 3) {
		vk.import_sem_fd = (PFN_vkImportSemaphoreFdKHR)
			vkGetDeviceProcAddr(vk.dev, "vkImportSemaphoreFdKHR");
		vk.get_sem_fd = (PFN_vkGetSemaphoreFdKHR)
			vkGetDeviceProcAddr(vk.dev, "vkGetSemaphoreFdKHR");
	}
	if (!vk.get_fd_props || !vk.get_memory_fd) {
		fail("no vkGetMemoryFd*KHR");
		return -EOPNOTSUPP;
	}
	VKC(vkCreateCommandPool(vk.dev, &cpi, NULL, &vk.pool));
	cai.commandPool = vk.pool;
	VKC(vkAllocateCommandBuffers(vk.dev, &cai, &vk.cmd));
	VKC(vkCreateFence(vk.dev, &fci, NULL, &vk.fence));
	return 0;
}

/* A buffer of @size bytes; in memory imported from @dmabuf if >= 0. */
static int make_buffer(struct buf *b, uint64_t size, int dmabuf, int exportable)
{
	VkExternalMemoryBufferCreateInfo ext = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = dmabuf >= 0 || exportable ? &ext : NULL,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT |
			 (dmabuf >= 0 && (vk.caps & VKP_CAP_COMPUTE) ?
			  VK_BUFFER_USAGE_STORAGE_BUFFER_BIT : 0),
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkMemoryFdPropertiesKHR fdp = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR,
	};
	VkImportMemoryFdInfoKHR imp;
	VkExportMemoryAllocateInfo exp = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkMemoryDedicatedAllocateInfo ded = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	};
	VkMemoryRequirements req;
	uint32_t bits;
	int type, ret;

	VKC(vkCreateBuffer(vk.dev, &bci, NULL, &b->buf));
	vkGetBufferMemoryRequirements(vk.dev, b->buf, &req);
	bits = req.memoryTypeBits;
	mai.allocationSize = req.size;
	if (dmabuf >= 0) {
		VKC(vk.get_fd_props(vk.dev,
				    VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
				    dmabuf, &fdp));
		fprintf(stderr, "vk-p2pbuf: dma-buf memoryTypeBits %#x, buffer's %#x\n",
			fdp.memoryTypeBits, req.memoryTypeBits);
		bits &= fdp.memoryTypeBits;
		/* Vulkan owns the fd it imports: give it a duplicate. */
		ret = p2pbuf_vk_import_info(dmabuf, vk.size, req.size, &imp);
		if (ret) {
			fail("p2pbuf_vk_import_info: %s", strerror(-ret));
			return ret;
		}
		mai.allocationSize = vk.size;
		ded.buffer = b->buf;
		imp.pNext = &ded;
		mai.pNext = &imp;
	} else if (exportable) {
		ded.buffer = b->buf;
		exp.pNext = &ded;
		mai.pNext = &exp;
	}
	type = host_type(bits);
	if (type < 0) {
		if (dmabuf >= 0)
			close(imp.fd);
		fail("no host-visible memory type in %#x%s", bits,
		     bci.usage & VK_BUFFER_USAGE_STORAGE_BUFFER_BIT ?
		     " (for a transfer and storage buffer)" : "");
		return -EOPNOTSUPP;
	}
	mai.memoryTypeIndex = (uint32_t)type;
	if (vkAllocateMemory(vk.dev, &mai, NULL, &b->mem) != VK_SUCCESS) {
		if (dmabuf >= 0)
			close(imp.fd);
		fail("vkAllocateMemory (%s) failed",
		     dmabuf >= 0 ? "import" : "allocate");
		return -EIO;
	}
	VKC(vkBindBufferMemory(vk.dev, b->buf, b->mem, 0));
	if (dmabuf < 0)
		VKC(vkMapMemory(vk.dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
	return 0;
}

static void free_buffer(struct buf *b)
{
	if (b->map)
		vkUnmapMemory(vk.dev, b->mem);
	vkDestroyBuffer(vk.dev, b->buf, NULL);
	vkFreeMemory(vk.dev, b->mem, NULL);
	memset(b, 0, sizeof(*b));
}

static int idle(void)
{
	if (!vk.busy)
		return 0;
	VKC(vkWaitForFences(vk.dev, 1, &vk.fence, VK_TRUE, 30ull * 1000000000));
	VKC(vkResetFences(vk.dev, 1, &vk.fence));
	vk.busy = 0;
	/* Destroying a semaphore a pending submission uses is not allowed. */
	for (int i = 0; i < 2; i++) {
		if (vk.sems[i])
			vkDestroySemaphore(vk.dev, vk.sems[i], NULL);
		vk.sems[i] = VK_NULL_HANDLE;
	}
	return 0;
}

static int begin(void)
{
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	int ret = idle();

	if (ret)
		return ret;
	VKC(vkResetCommandBuffer(vk.cmd, 0));
	VKC(vkBeginCommandBuffer(vk.cmd, &bi));
	return 0;
}

/* Record @seed's data into @dst: a fill, then a copy from staging. */
static void record_write(VkBuffer dst, uint64_t size, uint64_t seed)
{
	VkBufferCopy region = {
		.srcOffset = size / 16 * 4,
		.dstOffset = size / 16 * 4,
		.size = size - size / 16 * 4,
	};
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_HOST_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
	};

	vkp_fill_data(vk.staging.map, size, seed);
	vkCmdPipelineBarrier(vk.cmd, VK_PIPELINE_STAGE_HOST_BIT,
			     VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL,
			     0, NULL);
	vkCmdFillBuffer(vk.cmd, dst, 0, size / 16 * 4, vkp_fill(seed));
	vkCmdCopyBuffer(vk.cmd, vk.staging.buf, dst, 1, &region);
}

static void record_read(void)
{
	VkBufferCopy region = { .size = vk.size };
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
	};

	vkCmdCopyBuffer(vk.cmd, vk.imp.buf, vk.readback.buf, 1, &region);
	vkCmdPipelineBarrier(vk.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
			     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
			     0, NULL);
}

/*
 * Submit; with @sync, wait for the dma-buf's fences first (a sync_file
 * imported as a semaphore) and put the submission's own fence back into
 * the dma-buf (a SYNC_FD semaphore exported into it): implicit sync.
 */
static int submit(int sync, int write)
{
	VkSemaphoreCreateInfo sci = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
	};
	VkExportSemaphoreCreateInfo esci = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &vk.cmd,
	};
	struct dma_buf_export_sync_file ex = {
		.flags = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ,
		.fd = -1,
	};
	VkImportSemaphoreFdInfoKHR isi = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
		.flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkSemaphoreGetFdInfoKHR gsi = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	struct dma_buf_import_sync_file in = {
		.flags = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ,
	};
	VkSemaphore wait = VK_NULL_HANDLE, signal = VK_NULL_HANDLE;
	int fd = -1, ret = 0;

	VKC(vkEndCommandBuffer(vk.cmd));
	if (sync) {
		if (ioctl(vk.dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &ex)) {
			fail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE: %s", strerror(errno));
			return -errno;
		}
		VKC(vkCreateSemaphore(vk.dev, &sci, NULL, &wait));
		isi.semaphore = wait;
		isi.fd = ex.fd;	/* the semaphore owns it on success */
		if (vk.import_sem_fd(vk.dev, &isi) != VK_SUCCESS) {
			close(ex.fd);
			fail("vkImportSemaphoreFdKHR(SYNC_FD) failed");
			ret = -EIO;
			goto out;
		}
		sci.pNext = &esci;
		if (vkCreateSemaphore(vk.dev, &sci, NULL, &signal) != VK_SUCCESS) {
			fail("vkCreateSemaphore(exportable) failed");
			ret = -EIO;
			goto out;
		}
		si.waitSemaphoreCount = 1;
		si.pWaitSemaphores = &wait;
		si.pWaitDstStageMask = &stage;
		si.signalSemaphoreCount = 1;
		si.pSignalSemaphores = &signal;
	}
	if (vkQueueSubmit(vk.queue, 1, &si, vk.fence) != VK_SUCCESS) {
		fail("vkQueueSubmit failed");
		ret = -EIO;
		goto out;
	}
	vk.busy = 1;
	if (sync) {
		gsi.semaphore = signal;
		if (vk.get_sem_fd(vk.dev, &gsi, &fd) != VK_SUCCESS) {
			fail("vkGetSemaphoreFdKHR(SYNC_FD) failed");
			ret = -EIO;
			goto out;
		}
		in.fd = fd;
		if (ioctl(vk.dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &in)) {
			ret = -errno;
			fail("DMA_BUF_IOCTL_IMPORT_SYNC_FILE: %s", strerror(errno));
		}
		close(fd);
	}
out:
	if (vk.busy) {
		vk.sems[0] = wait;
		vk.sems[1] = signal;
		return ret;
	}
	if (wait)
		vkDestroySemaphore(vk.dev, wait, NULL);
	if (signal)
		vkDestroySemaphore(vk.dev, signal, NULL);
	return ret;
}

static int do_write(uint64_t seed, int sync)
{
	int ret = begin();

	if (ret)
		return ret;
	record_write(vk.imp.buf, vk.size, seed);
	ret = submit(sync, 1);
	if (!ret && !sync)
		ret = idle();
	return ret;
}

static int do_read(uint64_t seed, int sync)
{
	long bad;
	int ret = begin();

	if (ret)
		return ret;
	memset(vk.readback.map, 0, vk.size);
	record_read();
	ret = submit(sync, 0);
	if (!ret)
		ret = idle();
	if (ret)
		return ret;
	bad = vkp_check(vk.readback.map, vk.size, seed);
	if (bad >= 0) {
		fail("byte %ld of the copy is not seed %llu's", bad,
		     (unsigned long long)seed);
		return -EIO;
	}
	return 0;
}

/*
 * fill.comp's pipeline: one storage buffer (binding 0, the import, whole)
 * and a push constant range of its seed and word count.
 */
static int make_compute(void)
{
	VkShaderModuleCreateInfo smi = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		.codeSize = sizeof(fill_spv),
		.pCode = fill_spv,
	};
	VkDescriptorSetLayoutBinding bind = {
		.binding = 0,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.descriptorCount = 1,
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
	};
	VkDescriptorSetLayoutCreateInfo dli = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 1,
		.pBindings = &bind,
	};
	VkDescriptorPoolSize ps = {
		.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.descriptorCount = 1,
	};
	VkDescriptorPoolCreateInfo dpi = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = 1,
		.poolSizeCount = 1,
		.pPoolSizes = &ps,
	};
	VkDescriptorSetAllocateInfo dai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorSetCount = 1,
	};
	VkDescriptorBufferInfo dbi = {
		.offset = 0,
		.range = VK_WHOLE_SIZE,
	};
	VkWriteDescriptorSet wds = {
		.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
		.dstBinding = 0,
		.descriptorCount = 1,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.pBufferInfo = &dbi,
	};
	VkPushConstantRange pcr = {
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		.size = 2 * sizeof(uint32_t),
	};
	VkPipelineLayoutCreateInfo pli = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pushConstantRangeCount = 1,
		.pPushConstantRanges = &pcr,
	};
	VkComputePipelineCreateInfo cpi = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
			.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			.stage = VK_SHADER_STAGE_COMPUTE_BIT,
			.pName = "main",
		},
	};

	if (vk.pipe)
		return 0;
	VKC(vkCreateShaderModule(vk.dev, &smi, NULL, &vk.shader));
	VKC(vkCreateDescriptorSetLayout(vk.dev, &dli, NULL, &vk.dsl));
	VKC(vkCreateDescriptorPool(vk.dev, &dpi, NULL, &vk.dpool));
	dai.descriptorPool = vk.dpool;
	dai.pSetLayouts = &vk.dsl;
	VKC(vkAllocateDescriptorSets(vk.dev, &dai, &vk.dset));
	dbi.buffer = vk.imp.buf;
	wds.dstSet = vk.dset;
	vkUpdateDescriptorSets(vk.dev, 1, &wds, 0, NULL);
	pli.pSetLayouts = &vk.dsl;
	VKC(vkCreatePipelineLayout(vk.dev, &pli, NULL, &vk.playout));
	cpi.stage.module = vk.shader;
	cpi.layout = vk.playout;
	VKC(vkCreateComputePipelines(vk.dev, VK_NULL_HANDLE, 1, &cpi, NULL,
				     &vk.pipe));
	return 0;
}

/* fill.comp writes @seed's words over the whole import; waits. */
static int do_compute(uint64_t seed)
{
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
	};
	uint64_t words = vk.size / 4;
	uint64_t groups = (words + FILL_GROUP - 1) / FILL_GROUP;
	uint32_t push[2] = { (uint32_t)seed, (uint32_t)words };
	int ret;

	if (!(vk.caps & VKP_CAP_COMPUTE)) {
		fail("the driver cannot import a dma-buf as a storage buffer (%s)",
		     "VK_BUFFER_USAGE_STORAGE_BUFFER_BIT not importable");
		return -EOPNOTSUPP;
	}
	if (vk.size > vk.limits.maxStorageBufferRange || words > UINT32_MAX ||
	    groups > vk.limits.maxComputeWorkGroupCount[0]) {
		fail("%llu bytes exceed the storage buffer range %u or %u workgroups",
		     (unsigned long long)vk.size, vk.limits.maxStorageBufferRange,
		     vk.limits.maxComputeWorkGroupCount[0]);
		return -E2BIG;
	}
	ret = make_compute();
	if (!ret)
		ret = begin();
	if (ret)
		return ret;
	vkCmdBindPipeline(vk.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk.pipe);
	vkCmdBindDescriptorSets(vk.cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
				vk.playout, 0, 1, &vk.dset, 0, NULL);
	vkCmdPushConstants(vk.cmd, vk.playout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
			   sizeof(push), push);
	vkCmdDispatch(vk.cmd, (uint32_t)groups, 1, 1);
	vkCmdPipelineBarrier(vk.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
			     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
			     0, NULL);
	ret = submit(0, 1);
	if (!ret)
		ret = idle();
	return ret;
}

/* Vulkan memory exported as a dma-buf, written with @seed: vk.export_fd. */
static int do_export(uint64_t seed)
{
	VkMemoryGetFdInfoKHR gfi = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	struct buf b = { 0 };
	int fd = -1, ret;

	ret = make_buffer(&b, vk.size, -1, 1);
	if (ret)
		return ret;
	ret = begin();
	if (ret)
		goto out;
	record_write(b.buf, vk.size, seed);
	ret = submit(0, 1);
	if (!ret)
		ret = idle();
	if (ret)
		goto out;
	gfi.memory = b.mem;
	if (vk.get_memory_fd(vk.dev, &gfi, &fd) != VK_SUCCESS) {
		fail("vkGetMemoryFdKHR(DMA_BUF) failed");
		ret = -EIO;
		goto out;
	}
	/* The dma-buf keeps the memory alive once Vulkan lets it go. */
	vk.export_fd = fd;
out:
	free_buffer(&b);
	return ret;
}

int main(int argc, char **argv)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	struct vkp_msg m;
	unsigned int n;
	int sock, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET_FD\n", argv[0]);
		return 2;
	}
	sock = atoi(argv[1]);
	vk.export_fd = -1;
	ret = init();
	if (!ret) {
		ret = p2pbuf_recv(sock, &vk.dmabuf, &meta, 1, &n, 0);
		if (ret)
			fail("p2pbuf_recv: %s", strerror(-ret));
	}
	if (!ret) {
		vk.size = meta.buf_size;
		ret = make_buffer(&vk.imp, vk.size, vk.dmabuf, 0);
	}
	if (!ret)
		ret = make_buffer(&vk.staging, vk.size, -1, 0);
	if (!ret)
		ret = make_buffer(&vk.readback, vk.size, -1, 0);
	for (;;) {
		ssize_t len;

		if (!ret) {
			len = recv(sock, &m, sizeof(m), 0);
			if (len != sizeof(m)) {
				ret = len ? -EPROTO : 0;
				break;
			}
			why[0] = '\0';
			switch (m.op) {
			case VKP_HELLO:
				m.flags = vk.caps;
				break;
			case VKP_WRITE:
				ret = do_write(m.seed, 0);
				break;
			case VKP_READ:
				ret = do_read(m.seed, 0);
				break;
			case VKP_WRITE_SYNC:
				ret = do_write(m.seed, 1);
				break;
			case VKP_READ_SYNC:
				ret = do_read(m.seed, 1);
				break;
			case VKP_EXPORT:
				ret = do_export(m.seed);
				break;
			case VKP_COMPUTE:
				ret = do_compute(m.seed);
				break;
			case VKP_QUIT:
				goto done;
			default:
				fail("unknown op %u", m.op);
				ret = -EINVAL;
			}
		} else {
			memset(&m, 0, sizeof(m));
		}
		/* Errors are answered once, then the program ends. */
		m.status = ret;
		snprintf(m.text, sizeof(m.text), "%s", why);
		if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m) || ret)
			break;
		if (vk.export_fd >= 0) {
			struct p2pbuf_meta em = { .size = sizeof(em) };

			ret = p2pbuf_meta_init(vk.export_fd, &em);
			if (!ret)
				ret = p2pbuf_send(sock, &vk.export_fd, &em, 1, 0);
			if (ret)
				fprintf(stderr, "vk-p2pbuf: sending the export: %s\n",
					strerror(-ret));
			close(vk.export_fd);
			vk.export_fd = -1;
		}
	}
done:
	idle();
	if (vk.dev)
		vkDeviceWaitIdle(vk.dev);
	return ret ? 1 : 0;
}
