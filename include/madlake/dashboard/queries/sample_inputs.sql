-- Whether the PyPI downloads behind the gold tables include replayed sample data (drives the "sample data" banner).
select count(*) as sample_rows from pypi_downloads where source = 'replay-sample'
