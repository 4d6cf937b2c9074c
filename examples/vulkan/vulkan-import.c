// SPDX-License-Identifier: MIT
/*
 * vulkan-import: write into another process's dma-buf (a p2pbuf buffer,
 * VRAM of a p2pgem device say) from Vulkan, and read it back.
 *
 *   vulkan-import PID:FD SEED
 *
 * Takes descriptor FD of process PID with pidfd_getfd() (as `p2pbuf fill`
 * does: `p2pbuf alloc --hold` prints PID:FD), imports it as VkDeviceMemory
 * with VK_EXT_external_memory_dma_buf (the helpers of
 * <p2pbuf/p2pbuf_vulkan.h>), binds a VkBuffer to it, copies the test
 * pattern SEED into it from a staging buffer on the device, then copies it
 * back out and compares. `p2pbuf verify PID:FD --pattern SEED` checks it
 * from the exporter's side.
 *
 * Build: cc -o vulkan-import vulkan-import.c $(pkg-config --cflags --libs
 * libp2pbuf vulkan). Needs a Vulkan driver that imports dma-bufs (Mesa 25's
 * lavapipe does; Mesa 22's does not).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vulkan/vulkan.h>

#include <p2pbuf/p2pbuf.h>
#include <p2pbuf/p2pbuf_vulkan.h>

#define TRY(expr) do {							\
	VkResult r_ = (expr);						\
	if (r_ != VK_SUCCESS) {						\
		fprintf(stderr, "%s: VkResult %d\n", #expr, r_);	\
		exit(1);						\
	}								\
} while (0)

/* Byte @i of the test pattern @seed, as `p2pbuf fill` writes it. */
static uint8_t pattern_byte(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (i / 8);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static VkDevice dev;
static VkPhysicalDeviceMemoryProperties memprops;

/* A host-visible buffer of @size bytes, mapped at *@map. */
static VkBuffer host_buffer(VkDeviceSize size, VkDeviceMemory *mem, void **map)
{
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	VkMemoryAllocateInfo mai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
	VkMemoryRequirements req;
	VkBuffer buf;
	int type;

	TRY(vkCreateBuffer(dev, &bci, NULL, &buf));
	vkGetBufferMemoryRequirements(dev, buf, &req);
	type = p2pbuf_vk_memory_type(&memprops, req.memoryTypeBits,
				     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
				     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	if (type < 0) {
		fprintf(stderr, "no host-visible memory\n");
		exit(1);
	}
	mai.allocationSize = req.size;
	mai.memoryTypeIndex = (uint32_t)type;
	TRY(vkAllocateMemory(dev, &mai, NULL, mem));
	TRY(vkBindBufferMemory(dev, buf, *mem, 0));
	TRY(vkMapMemory(dev, *mem, 0, VK_WHOLE_SIZE, 0, map));
	return buf;
}

/* Copy @size bytes from @src to @dst on the device, and wait. */
static void run_copy(VkQueue queue, VkCommandBuffer cmd, VkBuffer src,
		     VkBuffer dst, VkDeviceSize size)
{
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cmd,
	};
	VkBufferCopy region = { .size = size };

	TRY(vkResetCommandBuffer(cmd, 0));
	TRY(vkBeginCommandBuffer(cmd, &bi));
	vkCmdCopyBuffer(cmd, src, dst, 1, &region);
	TRY(vkEndCommandBuffer(cmd));
	TRY(vkQueueSubmit(queue, 1, &si, VK_NULL_HANDLE));
	TRY(vkQueueWaitIdle(queue));
}

int main(int argc, char **argv)
{
	const char *exts[] = {
		VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME,
		VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME,
	};
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
		.enabledExtensionCount = 2,
		.ppEnabledExtensionNames = exts,
	};
	VkExternalMemoryBufferCreateInfo ext = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = P2PBUF_VK_HANDLE_TYPE,
	};
	VkMemoryFdPropertiesKHR fdp = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR,
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
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = &ext,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	VkMemoryAllocateInfo mai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
	PFN_vkGetMemoryFdPropertiesKHR get_fd_props;
	VkImportMemoryFdInfoKHR imp;
	VkDeviceMemory mem, smem, rmem;
	VkBuffer buf, staging, readback;
	VkMemoryRequirements req;
	VkPhysicalDevice phys;
	VkInstance inst;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkQueue queue;
	uint32_t n = 1;
	uint64_t size, seed;
	uint8_t *s, *r;
	int pid, remote, fd, type, ret;

	if (argc != 3 || sscanf(argv[1], "%d:%d", &pid, &remote) != 2) {
		fprintf(stderr, "usage: vulkan-import PID:FD SEED\n");
		return 2;
	}
	seed = strtoull(argv[2], NULL, 0);
	ret = p2pbuf_pidfd_getfd(pid, remote, 0, &fd);
	if (!ret)
		ret = p2pbuf_vk_dmabuf_size(fd, &size);
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-ret));
		return 1;
	}

	TRY(vkCreateInstance(&ici, NULL, &inst));
	ret = vkEnumeratePhysicalDevices(inst, &n, &phys);
	if ((ret != VK_SUCCESS && ret != VK_INCOMPLETE) || !n) {
		fprintf(stderr, "no Vulkan device\n");
		return 1;
	}
	vkGetPhysicalDeviceMemoryProperties(phys, &memprops);
	TRY(vkCreateDevice(phys, &dci, NULL, &dev));
	vkGetDeviceQueue(dev, 0, 0, &queue);
	get_fd_props = (PFN_vkGetMemoryFdPropertiesKHR)
		vkGetDeviceProcAddr(dev, "vkGetMemoryFdPropertiesKHR");

	/* The import: a buffer for external memory, and the dma-buf as its memory. */
	bci.size = size;
	TRY(vkCreateBuffer(dev, &bci, NULL, &buf));
	vkGetBufferMemoryRequirements(dev, buf, &req);
	TRY(get_fd_props(dev, P2PBUF_VK_HANDLE_TYPE, fd, &fdp));
	type = p2pbuf_vk_memory_type(&memprops, fdp.memoryTypeBits &
				     req.memoryTypeBits, 0);
	ret = type < 0 ? type : p2pbuf_vk_import_info(fd, size, req.size, &imp);
	if (ret) {
		fprintf(stderr, "cannot import this dma-buf: %s\n", strerror(-ret));
		return 1;
	}
	mai.pNext = &imp;
	mai.allocationSize = size;
	mai.memoryTypeIndex = (uint32_t)type;
	if (vkAllocateMemory(dev, &mai, NULL, &mem) != VK_SUCCESS) {
		close(imp.fd);	/* Vulkan owns it only on success */
		fprintf(stderr, "vkAllocateMemory: the import failed\n");
		return 1;
	}
	TRY(vkBindBufferMemory(dev, buf, mem, 0));
	printf("vulkan-import: %llu bytes of %s imported into Vulkan\n",
	       (unsigned long long)size, argv[1]);

	/* Write: staging -> the dma-buf, on the device. */
	staging = host_buffer(size, &smem, (void **)&s);
	readback = host_buffer(size, &rmem, (void **)&r);
	for (uint64_t i = 0; i < size; i++)
		s[i] = pattern_byte(seed, i);
	TRY(vkCreateCommandPool(dev, &cpi, NULL, &pool));
	cai.commandPool = pool;
	TRY(vkAllocateCommandBuffers(dev, &cai, &cmd));
	run_copy(queue, cmd, staging, buf, size);
	printf("vulkan-import: wrote pattern %llu with vkCmdCopyBuffer\n",
	       (unsigned long long)seed);

	/* Read back: the dma-buf -> a host buffer, and compare. */
	memset(r, 0, size);
	run_copy(queue, cmd, buf, readback, size);
	ret = memcmp(r, s, size) ? 1 : 0;
	printf("vulkan-import: read it back: %s\n", ret ? "MISMATCH" : "intact");

	vkDestroyCommandPool(dev, pool, NULL);
	vkDestroyBuffer(dev, staging, NULL);
	vkDestroyBuffer(dev, readback, NULL);
	vkDestroyBuffer(dev, buf, NULL);
	vkFreeMemory(dev, smem, NULL);
	vkFreeMemory(dev, rmem, NULL);
	vkFreeMemory(dev, mem, NULL);
	vkDestroyDevice(dev, NULL);
	vkDestroyInstance(inst, NULL);
	close(fd);
	return ret;
}
