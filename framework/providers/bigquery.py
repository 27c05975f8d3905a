"""BigQuery: datasets are schemas. Works against real BigQuery and the local emulator alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from framework.providers.base import Provider, ProviderConnectionError, SchemaInfo
from framework.providers.postgres import resolved_output


class BigQueryProvider(Provider):
    engine = "bigquery"
    dialect = "bigquery"

    def __init__(self, settings: Any) -> None:
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        super().__init__(settings)
        output = resolved_output(settings)
        self.project = str(output.get("project") or output.get("database"))
        self.location = output.get("location") or None
        endpoint = output.get("api_endpoint") or None
        credentials: Any = None
        if output.get("method") == "oauth-secrets":
            from google.oauth2.credentials import Credentials

            credentials = Credentials(token=output.get("token"))
        self.client = bigquery.Client(
            project=self.project,
            credentials=credentials,
            location=self.location,
            client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        )
        self._check_reachable(settings.target.name, endpoint or "BigQuery")

    def _check_reachable(self, target: str, endpoint: str) -> None:
        """One cheap request with a short retry budget. The client connects lazily, and its default retry
        keeps trying an unreachable endpoint for ten minutes: a command would hang instead of failing."""
        import requests
        from google.api_core.exceptions import GoogleAPIError, RetryError
        from google.auth.exceptions import TransportError
        from google.cloud.bigquery.retry import DEFAULT_RETRY

        try:
            list(self.client.list_datasets(max_results=1, retry=DEFAULT_RETRY.with_timeout(10), timeout=30))
        except (
            RetryError,
            TransportError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as exc:
            cause = " ".join(str(getattr(exc, "cause", None) or exc).split())
            raise ProviderConnectionError(
                f"cannot connect to target '{target}' ({endpoint}): {cause}"
            ) from None
        except GoogleAPIError:
            pass  # reached: a permission error here (no right to list datasets) is not for this check to judge

    @property
    def database(self) -> str | None:
        return self.project

    def close(self) -> None:
        self.client.close()

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> None:
        self.client.query(sql, job_config=_job_config(parameters)).result()

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return [
            tuple(row.values()) for row in self.client.query(sql, job_config=_job_config(parameters)).result()
        ]

    def delete_rows(self, table: str, condition: Any) -> None:
        """As a MERGE that deletes what it matches: the same on BigQuery, and the local emulator runs MERGE
        but not DELETE."""
        import sqlglot.expressions as exp

        source = exp.select(exp.Literal.number(1).as_("one")).subquery("source")
        target = exp.to_table(table).as_("target")
        self.execute(
            self.render(exp.merge("WHEN MATCHED THEN DELETE", into=target, using=source, on=condition))
        )

    def list_schemas(self, prefix: str = "") -> list[SchemaInfo]:
        infos = []
        for dataset in self.client.list_datasets(self.project):
            if not dataset.dataset_id.startswith(prefix):
                continue
            tables = list(self.client.list_tables(dataset.reference))
            sizes = [self.client.get_table(t.reference).num_bytes for t in tables if t.table_type == "TABLE"]
            known = [s for s in sizes if s is not None]
            size = sum(known) if known and len(known) == len(sizes) else None
            infos.append(SchemaInfo(dataset.dataset_id, len(tables), size))
        return sorted(infos, key=lambda info: info.name)

    def drop_schema(self, name: str) -> None:
        self.client.delete_dataset(f"{self.project}.{name}", delete_contents=True, not_found_ok=True)

    def table_exists(self, schema: str, name: str) -> bool:
        # Through the API: the emulator has no INFORMATION_SCHEMA.
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(f"{self.project}.{schema}.{name}")
        except NotFound:
            return False
        return True

    def _partition_of(self, column: Any, data_type: str, unit: Any) -> Any:
        import sqlglot.expressions as exp

        if data_type == "datetime":
            return exp.DatetimeTrunc(this=column, unit=unit)
        return super()._partition_of(column, data_type, unit)


def _job_config(parameters: Sequence[Any] | None) -> Any:
    if not parameters:
        return None
    from google.cloud import bigquery

    types = {bool: "BOOL", int: "INT64", float: "FLOAT64", str: "STRING"}
    return bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter(None, types.get(type(value), "STRING"), value)
            for value in parameters
        ]
    )
