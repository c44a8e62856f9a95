/*
 * The host runner's trampoline (host.c): loads the input state from
 * diff_host_ctx, jumps to the sequence, and at the sequence's end (the
 * return stub jumps to diff_host_exit) stores the state back and returns
 * to C.  The sequence is entered with IRETQ, which loads rip, cs, rflags
 * and rsp at once: mode 32 enters the 32-bit user code segment
 * (compatibility mode) that way, and its stub far-jumps back.
 *
 * diff_host_ctx layout (struct DiffHostCtx in host.c, checked there):
 *   0 gpr[16]  128 rflags  136 entry  144 host rsp  424 mode32
 *   432 saved ds  436 saved es  448 IRET frame (rip, cs, rflags, rsp, ss)
 *   512 FXSAVE image (x87, MXCSR, XMM)
 */
        .section .bss
        .balign 64
        .globl diff_host_ctx
        .hidden diff_host_ctx
        .type diff_host_ctx, @object
diff_host_ctx:
        .zero 1024
        .size diff_host_ctx, 1024

        .section .rodata
        .balign 4
diff_default_mxcsr:
        .long 0x1f80
diff_default_fcw:
        .word 0x37f

        .text
/* void diff_host_enter(void): runs the sequence; returns through diff_host_exit. */
        .globl diff_host_enter
        .hidden diff_host_enter
        .type diff_host_enter, @function
diff_host_enter:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        lea diff_host_ctx(%rip), %rax
        mov %rsp, 144(%rax)
        mov %ds, %ecx
        mov %ecx, 432(%rax)
        mov %es, %ecx
        mov %ecx, 436(%rax)
        fxrstor64 512(%rax)             /* x87, MXCSR, XMM from the FXSAVE image */
        cmpq $0, 424(%rax)
        je 1f
        mov $0x2b, %ecx          /* __USER_DS: flat data for 32-bit code */
        mov %ecx, %ds
        mov %ecx, %es
1:
        mov 8(%rax), %rcx
        mov 16(%rax), %rdx
        mov 24(%rax), %rbx
        mov 40(%rax), %rbp
        mov 48(%rax), %rsi
        mov 56(%rax), %rdi
        mov 64(%rax), %r8
        mov 72(%rax), %r9
        mov 80(%rax), %r10
        mov 88(%rax), %r11
        mov 96(%rax), %r12
        mov 104(%rax), %r13
        mov 112(%rax), %r14
        mov 120(%rax), %r15
        mov 0(%rax), %rax
        /* rip, cs, rflags, rsp, ss from the frame: IRET starts the sequence with
         * its flags (TF included: the trap comes after its first instruction) */
        lea diff_host_ctx+448(%rip), %rsp
        iretq
        .size diff_host_enter, .-diff_host_enter

/* Reached from the sequence's return stub, in 64-bit mode, with the test's
 * registers and its rsp. */
        .globl diff_host_exit
        .hidden diff_host_exit
        .type diff_host_exit, @function
diff_host_exit:
        mov %rax, diff_host_ctx+0(%rip)
        mov %rcx, diff_host_ctx+8(%rip)
        mov %rdx, diff_host_ctx+16(%rip)
        mov %rbx, diff_host_ctx+24(%rip)
        mov %rsp, diff_host_ctx+32(%rip)
        mov %rbp, diff_host_ctx+40(%rip)
        mov %rsi, diff_host_ctx+48(%rip)
        mov %rdi, diff_host_ctx+56(%rip)
        mov %r8, diff_host_ctx+64(%rip)
        mov %r9, diff_host_ctx+72(%rip)
        mov %r10, diff_host_ctx+80(%rip)
        mov %r11, diff_host_ctx+88(%rip)
        mov %r12, diff_host_ctx+96(%rip)
        mov %r13, diff_host_ctx+104(%rip)
        mov %r14, diff_host_ctx+112(%rip)
        mov %r15, diff_host_ctx+120(%rip)
        mov diff_host_ctx+144(%rip), %rsp
        pushfq
        popq diff_host_ctx+128(%rip)
        pushq $0x202                    /* AC, DF, TF off before anything else */
        popfq
        fxsave64 diff_host_ctx+512(%rip)
        call diff_host_restore
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret
        .size diff_host_exit, .-diff_host_exit

/* void diff_host_restore(void): the C environment back after a sequence
 * (x87 empty with the default control word, default MXCSR, DS/ES as they
 * were, DF/AC/TF clear).  Clobbers rcx only. */
        .globl diff_host_restore
        .hidden diff_host_restore
        .type diff_host_restore, @function
diff_host_restore:
        fninit
        fldcw diff_default_fcw(%rip)
        ldmxcsr diff_default_mxcsr(%rip)
        mov diff_host_ctx+432(%rip), %ecx
        mov %ecx, %ds
        mov diff_host_ctx+436(%rip), %ecx
        mov %ecx, %es
        pushq $0x202
        popfq
        ret
        .size diff_host_restore, .-diff_host_restore

        .section .note.GNU-stack,"",@progbits
