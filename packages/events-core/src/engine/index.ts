/** A small Docker Engine API client for the hot paths, and the endpoint rules every tool shares. */

export { DEFAULT_DOCKER_HOST, dockerHostOf, type EngineTarget, engineTarget } from './endpoint.js';
export { type ContainerInspect, type ContainerSummary, Engine, EngineError } from './engine-api.js';
