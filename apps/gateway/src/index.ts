import { GATEWAY_CONTROLLERS } from './gateway.module';
import { buildOpenApiDocument } from './http/openapi';

export { createGatewayApp } from './gateway.app';

/** The gateway's OpenAPI document, built from its controllers without starting anything. */
export const gatewayOpenApiDocument = () => buildOpenApiDocument(GATEWAY_CONTROLLERS);
