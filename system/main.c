/* kvmpc: a PC emulator in the QEMU mould.  See system/vl.c. */
int kvmpc_main(int argc, char **argv);

int main(int argc, char **argv)
{
    return kvmpc_main(argc, argv);
}
