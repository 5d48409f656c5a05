import { Link } from "react-router";
import { PageHeader } from "../components/Page";

export function NotFound() {
  return (
    <>
      <PageHeader title="Siden findes ikke" />
      <p>
        Adressen findes ikke i back office. <Link to="/signups" className="link">Gå til tilmeldinger</Link>.
      </p>
    </>
  );
}
