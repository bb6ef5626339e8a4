import '@mantine/core/styles.css';
import { createTheme, MantineProvider, type CSSVariablesResolver } from '@mantine/core';
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
const theme = createTheme({ primaryShade: 8 });
// "Dimmed" text (input descriptions, c="dimmed") is gray 6 (#868e96, 3.3:1 on white): gray 7 has 8:1.
// Field errors are red 6 (#fa5252, 3.3:1): red 9 has 5.5:1.
const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
  },
  dark: {},
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariables}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <RouterProvider router={router} />
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
