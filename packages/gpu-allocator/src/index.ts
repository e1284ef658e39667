/** @ds01/gpu-allocator: the `ds01-gpu` allocator as a library (the bin is src/bin/ds01-gpu.ts). */

export { main } from './cli.js';
export { type AllocateOptions, allocate } from './commands/allocate.js';
export { bind } from './commands/bind.js';
export { limits } from './commands/limits.js';
export { reconcile } from './commands/reconcile.js';
export { release } from './commands/release.js';
export { start } from './commands/start.js';
export { status } from './commands/status.js';
export { type CommandContext, loadContext } from './context.js';
export { type Decision, decideAllocation } from './decide-allocation.js';
export { migProfileWeight, slicesPerGpu } from './inventory/mig-weight.js';
export { parseGpuList } from './inventory/parse-list.js';
export { parseGpuQuery } from './inventory/parse-query.js';
export { buildInventory, readInventory, slotUuidsForDevice } from './inventory/read-inventory.js';
export { InventoryError } from './inventory/run-nvidia-smi.js';
export { compareSlotIds } from './inventory/slot-order.js';
export type { Inventory, Slot } from './inventory/types.js';
export { holdHours, readGpuLimits } from './read-limits.js';
export { stateFilePath } from './state/open-state.js';
export type { Allocation, GpuState } from './state/types.js';
