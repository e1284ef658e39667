export const packageName = '@ds01/docker-wrapper';
