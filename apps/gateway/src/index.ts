export { createGatewayApp } from './gateway.app';
