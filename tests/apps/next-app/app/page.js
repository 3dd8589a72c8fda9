import Search from './client';
export default function Page() {
  return (<main><h1>akidb</h1><Search /></main>);
}
