import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { loadEnv } from './env.ts';
import { tracingWanted } from './otel-env.ts';

describe('LOG_FORMAT', () => {
  it('is json unless asked, pretty for a terminal', () => {
    expect(loadEnv({}).LOG_FORMAT).toBe('json');
    expect(loadEnv({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
  });

  it('refuses pretty in production, saying what to do, and any other value by name', () => {
    expect(() => loadEnv({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).toThrow(ConfigError);
    expect(() => loadEnv({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).toThrow(/LOG_FORMAT=pretty is for a terminal; with NODE_ENV=production logs are JSON lines/);
    expect(() => loadEnv({ LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT/);
  });
});

describe('OTEL_* variables', () => {
  it('turn tracing on only with an endpoint, and off again with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingWanted(loadEnv({}))).toBe(false);
    expect(tracingWanted(loadEnv({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }))).toBe(false);
    expect(tracingWanted(loadEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))).toBe(true);
    expect(tracingWanted(loadEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }))).toBe(true);
    expect(tracingWanted(loadEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }))).toBe(false);
    expect(tracingWanted(loadEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }))).toBe(false);
  });

  it('stop the start naming the variable when they are wrong, where the SDK would only fall back', () => {
    expect(() => loadEnv({ OTEL_TRACES_SAMPLER: 'parentbased_sometimes' })).toThrow(/one of always_on[\s\S]*at OTEL_TRACES_SAMPLER/);
    expect(() => loadEnv({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/http\/json[\s\S]*at OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => loadEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
