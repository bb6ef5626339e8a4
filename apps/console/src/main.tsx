import '@mantine/core/styles.css';
import { createTheme, DEFAULT_THEME, MantineProvider, type CSSVariablesResolver } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { ApiError } from './lib/api';
import { SessionProvider } from './lib/session';
import { routes } from './routes';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // An answer the caller caused (401, 403, 404, 400) won't change by asking again.
      retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status < 500),
      staleTime: 5_000,
    },
  },
});

const router = createBrowserRouter(routes);

// Mantine's default primary shade (blue 6, #228be6) has a 3.55:1 contrast with white: text and
// filled buttons fail WCAG AA (axe's color-contrast). Shade 8 (#1971c2) has 5:1.
const theme = createTheme({ primaryShade: 8, respectReducedMotion: true });

// Also below AA at Mantine's defaults: input descriptions (dimmed, gray 6: 3.3:1), field errors
// (red 6: 3.3:1) and the text of light alerts and badges (shade 9 on its tint: green 3.8:1, yellow
// 2.7:1). Darker text, same hues.
const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    ...Object.fromEntries(
      Object.keys(DEFAULT_THEME.colors).map((name) => [
        `--mantine-color-${name}-light-color`,
        `color-mix(in srgb, var(--mantine-color-${name}-9), black 45%)`,
      ]),
    ),
  },
  dark: {},
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <RouterProvider router={router} />
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
