/** nginx in front of a stack, and its certificates: what the deploy planner and CLI use. */
export * from './names.js';
export { renderSite, type SiteOptions } from './render-site.js';
export { renderUpstreams, upstreamsOf, serverAddress, type Upstream } from './render-upstreams.js';
export {
  writeNginxFile,
  replaceNginxFile,
  nginxFileStep,
  workerPids,
  type NginxFileObserved,
  type NginxFileStepOptions,
} from './nginx-file.js';
export { proxySteps, type ProxyStepsOptions } from './steps.js';
