import type { Got } from 'got';
import { createServiceClient } from './service-client.ts';

export interface ServiceUrls {
  AUTH_SERVICE_URL: string;
  CART_SERVICE_URL: string;
  ORDER_SERVICE_URL: string;
  PRODUCT_SERVICE_URL: string;
  HTTP_TIMEOUT_MS: number;
}

export interface ServiceClients {
  auth: Got;
  cart: Got;
  order: Got;
  product: Got;
}

export const createServiceClients = (env: ServiceUrls): ServiceClients => ({
  auth: createServiceClient('auth', env.AUTH_SERVICE_URL, env.HTTP_TIMEOUT_MS),
  cart: createServiceClient('cart', env.CART_SERVICE_URL, env.HTTP_TIMEOUT_MS),
  order: createServiceClient('order', env.ORDER_SERVICE_URL, env.HTTP_TIMEOUT_MS),
  product: createServiceClient('product', env.PRODUCT_SERVICE_URL, env.HTTP_TIMEOUT_MS),
});
