import { Link } from "../router";

export function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such page, or no project of yours has this id. <Link href="/">Go to your projects</Link>.
      </p>
    </section>
  );
}
