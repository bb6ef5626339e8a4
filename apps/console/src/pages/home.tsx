import { Title } from '@mantine/core';
import { Navigate } from 'react-router';
import { signInPath } from '../components/page-state';
import { useSession } from '../lib/session';

/** Placeholder: being built (what I own and what is shared with me). */
export default function HomePage() {
  const { user } = useSession();
  if (!user) return <Navigate to={signInPath('/')} replace />;
  return <Title order={1}>Home</Title>;
}
