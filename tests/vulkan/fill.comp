// SPDX-License-Identifier: MIT
//
// fill.comp: the compute shader of tests/vulkan/vk-p2pbuf (VKP_COMPUTE).
// Each invocation writes one 32-bit word of the storage buffer, a hash of
// its index and the push constant seed: vkp_cword() in vk_proto.h, which
// must stay the same function. Compiled to SPIR-V inside the Vulkan root
// (glslangValidator -V, tests/vulkan/Makefile) and embedded in vk-p2pbuf.
//
// Copyright (c) 2026 The p2pbuf authors
#version 450

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) writeonly buffer Words {
	uint w[];
};

layout(push_constant) uniform Push {
	uint seed;
	uint words;
} pc;

void main()
{
	uint i = gl_GlobalInvocationID.x;
	uint x;

	if (i >= pc.words)
		return;
	x = pc.seed * 0x9e3779b9u + i * 0x85ebca6bu + 0x2545f491u;
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	w[i] = x;
}
