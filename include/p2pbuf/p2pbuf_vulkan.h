/* SPDX-License-Identifier: MIT */
/*
 * p2pbuf_vulkan.h: importing a dma-buf (a p2pbuf buffer) into Vulkan as
 * VkDeviceMemory with VK_EXT_external_memory_dma_buf.
 *
 * Header only: include it after <vulkan/vulkan.h> in a Vulkan program;
 * libp2pbuf itself does not link libvulkan. Every function is static inline
 * and returns 0 or a negative errno. The usual import:
 *
 *	VkMemoryFdPropertiesKHR fdp = { VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
 *	VkImportMemoryFdInfoKHR imp;
 *	vkGetMemoryFdPropertiesKHR(dev, P2PBUF_VK_HANDLE_TYPE, fd, &fdp);
 *	vkGetBufferMemoryRequirements(dev, buffer, &req);   // buffer made with
 *	    // VkExternalMemoryBufferCreateInfo { P2PBUF_VK_HANDLE_TYPE }
 *	type = p2pbuf_vk_memory_type(&memprops, fdp.memoryTypeBits &
 *				     req.memoryTypeBits, 0);
 *	p2pbuf_vk_import_info(fd, 0, req.size, &imp);       // dups fd
 *	VkMemoryAllocateInfo mai = { ..., .pNext = &imp,
 *				     .allocationSize = size of the dma-buf, ... };
 *	if (vkAllocateMemory(dev, &mai, NULL, &mem) != VK_SUCCESS)
 *		close(imp.fd);    // Vulkan owns imp.fd only on success
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_VULKAN_H
#define P2PBUF_VULKAN_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifndef VK_EXT_external_memory_dma_buf
#error "include <vulkan/vulkan.h> (1.1 or later headers) before p2pbuf_vulkan.h"
#endif

/* The handle type of a dma-buf in Vulkan's external memory API. */
#define P2PBUF_VK_HANDLE_TYPE VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT

/*
 * p2pbuf_vk_dmabuf_size() - the size of the dma-buf @fd in *@size: what
 * VkMemoryAllocateInfo.allocationSize should be for the whole buffer.
 * -EBADF for a bad descriptor, -EINVAL for a file that has no size (not a
 * dma-buf).
 */
static inline int p2pbuf_vk_dmabuf_size(int fd, uint64_t *size)
{
	off_t end;

	if (!size)
		return -EINVAL;
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return errno == ESPIPE ? -EINVAL : -errno;
	lseek(fd, 0, SEEK_SET);
	if (!end)
		return -EINVAL;
	*size = (uint64_t)end;
	return 0;
}

/*
 * p2pbuf_vk_memory_type() - the first memory type in @bits (the AND of
 * vkGetMemoryFdPropertiesKHR's and the resource's memoryTypeBits) that has
 * every property in @want. Returns its index, or -ENOENT (no memory type
 * in @bits means the driver cannot import this dma-buf for that resource).
 */
static inline int
p2pbuf_vk_memory_type(const VkPhysicalDeviceMemoryProperties *props,
		      uint32_t bits, VkMemoryPropertyFlags want)
{
	uint32_t i;

	if (!props)
		return -EINVAL;
	for (i = 0; i < props->memoryTypeCount && i < 32; i++)
		if ((bits & (1u << i)) &&
		    (props->memoryTypes[i].propertyFlags & want) == want)
			return (int)i;
	return -ENOENT;
}

/*
 * p2pbuf_vk_import_info() - fill @info to import the dma-buf @fd.
 * @size: the dma-buf's size, or 0 to ask the dma-buf.
 * @required: VkMemoryRequirements.size of the resource the memory is for.
 *
 * @info->fd is a new close-on-exec duplicate of @fd, since a successful
 * vkAllocateMemory() takes ownership of the descriptor it imports: the
 * caller keeps @fd, and closes @info->fd itself only if the import fails.
 * Errors: -EINVAL for a NULL @info, or a zero @required; -EFBIG when the
 * resource needs more than the dma-buf has; the errors of
 * p2pbuf_vk_dmabuf_size() and of dup (-EBADF, -EMFILE).
 */
static inline int p2pbuf_vk_import_info(int fd, uint64_t size,
					VkDeviceSize required,
					VkImportMemoryFdInfoKHR *info)
{
	int ret, dup;

	if (!info || !required)
		return -EINVAL;
	if (!size) {
		ret = p2pbuf_vk_dmabuf_size(fd, &size);
		if (ret)
			return ret;
	}
	if (required > size)
		return -EFBIG;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
	info->handleType = P2PBUF_VK_HANDLE_TYPE;
	info->fd = dup;
	return 0;
}

#endif
