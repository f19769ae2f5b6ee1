* A do-file without its own data: run it on a data file,
*   memodels run pig.csv examples/icc.do
mixed weight week || id:
estat icc
