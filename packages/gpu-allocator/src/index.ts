export const packageName = '@ds01/gpu-allocator';
